"""core.dates: ROC/Gregorian both ways, and the one month arithmetic (民法第120–121條) at every month-end."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccinspect.core.dates import (
    DateParseError,
    dual,
    months_after,
    months_before,
    parse_date,
    period_start,
    to_roc,
    to_roc_zh,
    within_months,
)
from ccinspect.core.errors import InputError

D = dt.date
DAY = dt.timedelta(days=1)
dates = st.dates(min_value=D(1913, 1, 1), max_value=D(2200, 12, 31))
months = st.integers(min_value=1, max_value=120)


def civil(start: dt.date, n: int) -> dt.date:
    """民法第121條 read literally: counting begins the day after `start`; the period ends the day before the
    corresponding day of the last month, or on that month's last day when it has no corresponding day."""
    first = start + DAY
    y, m = divmod(first.month - 1 + n, 12)
    year, month = first.year + y, m + 1
    try:
        return D(year, month, first.day) - DAY
    except ValueError:
        return D(year, month, calendar.monthrange(year, month)[1])


@pytest.mark.parametrize("start,n,end", [
    (D(2024, 1, 15), 1, D(2024, 2, 15)),
    (D(2024, 9, 30), 6, D(2025, 3, 31)),
    (D(2024, 8, 31), 6, D(2025, 2, 28)),
    (D(2024, 1, 31), 1, D(2024, 2, 29)),  # leap year
    (D(2023, 1, 31), 1, D(2023, 2, 28)),
    (D(2024, 1, 29), 1, D(2024, 2, 29)),  # 起算日 01-30: February has no 30th, so its last day
    (D(2024, 1, 28), 1, D(2024, 2, 28)),
    (D(2024, 2, 29), 12, D(2025, 2, 28)),
    (D(2023, 2, 28), 1, D(2023, 3, 31)),  # a month's last day: counting begins on the 1st
    (D(2024, 2, 28), 1, D(2024, 3, 28)),
    (D(2024, 12, 31), 2, D(2025, 2, 28)),
    (D(2024, 11, 30), 3, D(2025, 2, 28)),
    (D(2024, 6, 30), 12, D(2025, 6, 30)),
])
def test_months_after_worked_examples(start, n, end):
    assert months_after(start, n) == end


@pytest.mark.parametrize("year", [2023, 2024, 2100, 2000])
@pytest.mark.parametrize("n", [1, 3, 6, 12, 24])
def test_every_month_end_and_leap_day(year, n):
    for month in range(1, 13):
        last = D(year, month, calendar.monthrange(year, month)[1])
        for start in (last - DAY, last):
            assert months_after(start, n) == civil(start, n)
        # a month's last day: the period ends on the last day of the month n months on
        end = months_after(last, n)
        assert end == D(end.year, end.month, calendar.monthrange(end.year, end.month)[1])
        # exactly n months before a month's last day is within; the day before is not
        since = months_before(last, n)
        assert within_months(since, last, n) and not within_months(since - DAY, last, n)


@given(dates, months)
def test_months_after_is_the_civil_code_rule(start, n):
    assert months_after(start, n) == civil(start, n)


@given(dates, months)
def test_months_before_is_the_earliest_date_still_within(as_of, n):
    since = months_before(as_of, n)
    assert months_after(since, n) >= as_of
    assert months_after(since - DAY, n) < as_of
    assert period_start(as_of, n) == since + DAY


@given(dates, months)
def test_a_record_exactly_n_months_before_is_within(record, n):
    as_of = months_after(record, n)
    assert within_months(record, as_of, n)


def test_months_are_counted_forward_and_back_separately():
    with pytest.raises(ValueError):
        months_after(D(2024, 1, 1), -1)
    with pytest.raises(ValueError):
        months_before(D(2024, 1, 1), -1)
    assert months_after(D(2024, 1, 1), 0) == D(2024, 1, 1)


@given(st.dates(min_value=D(1912, 1, 1), max_value=D(2910, 12, 31)))
def test_roc_and_gregorian_round_trip(d):
    assert parse_date(to_roc(d)) == d
    assert parse_date(to_roc_zh(d)) == d
    assert parse_date(d.isoformat()) == d
    assert dual(d) == f"{d.isoformat()} ({to_roc(d)})"


@pytest.mark.parametrize("value", ["1911-12-31", "1900/01/01", "0/12/31", "1911年12月31日", D(1911, 12, 31)])
def test_dates_before_roc_year_1_are_refused(value):
    with pytest.raises(DateParseError) as exc:
        parse_date(value, field="date", file="staff.csv", line=4)
    err = exc.value
    assert isinstance(err, InputError)
    assert err.message_id in {"date.before_roc", "date.unreal", "date.invalid"}
    assert (err.file, err.line, err.field) == ("staff.csv", 4, "date")


def test_date_errors_carry_place_expected_and_both_languages():
    with pytest.raises(DateParseError) as exc:
        parse_date("112/02/30", field="date", file="records.csv", line=7)
    err = exc.value
    assert err.message_id == "date.unreal"
    assert err.text("en").startswith("records.csv:7: field 'date': '112/02/30' is not a real date")
    assert "不是實際存在的日期" in err.text("zh-Hant") and "欄位「date」" in err.text("zh-Hant")
    assert err.expected and "112/01/31" in err.expected
    assert parse_date("1912-01-01") == D(1912, 1, 1)
