"""Dates as brokers write them, and the one month arithmetic of the project.

Parsing: ISO (2023-01-31) and the ROC (民國) calendar, where year 1 is 1912; nothing before 1912-01-01.
Display: `to_roc` (112/01/31), `to_roc_zh` (民國112年1月31日), `dual` (2023-01-31 (112/01/31)).

Months follow 民法第120條第2項、第121條: the first day is not counted, and a period of N months ends on
the day before the day of the last month corresponding to the day counting began; where the last month has
no such day, on that month's last day. So 2024-01-15 + 1 month ends 2024-02-15, 2024-09-30 + 6 months
ends 2025-03-31 and 2024-08-31 + 6 months ends 2025-02-28 (`months_after`). Looking back from an as-of
date, a record is "within N months" when the period of N months it starts still reaches the as-of date
(`months_before` gives the earliest such date), so a record dated exactly N months before is within.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from .errors import InputError, define

ROC_OFFSET = 1911
ROC_EPOCH = dt.date(1912, 1, 1)

_FULLWIDTH = str.maketrans("０１２３４５６７８９／－．", "0123456789/-.")

_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_ROC_SLASH = re.compile(r"^(\d{2,3})[/.-](\d{1,2})[/.-](\d{1,2})$")
# 民國112年1月31日, 112年1月31日, 111年1月底, 111年底, 2023年1月31日
_CJK = re.compile(r"^(?:民國)?(\d{1,4})年(?:(\d{1,2})月)?(?:(\d{1,2})日|(底))?$")

EXPECTED = "ISO 2023-01-31 or ROC 112/01/31, 民國112年1月31日, 111年1月底"

NOT_A_DATE = define("date.invalid", "{value!r} is not a date", "「{value}」不是日期")
NOT_REAL = define("date.unreal", "{value!r} is not a real date ({detail})", "「{value}」不是實際存在的日期（{detail}）")
NEEDS_MONTH = define("date.needs_month", "{value!r}: a day needs a month", "「{value}」：有日無月")
NEEDS_DAY = define("date.needs_day", "{value!r}: give a month and day, or 年底", "「{value}」：請寫出月與日，或「年底」")
ROC_YEAR = define("date.roc_year", "{value!r}: 民國 year {year} is not plausible", "「{value}」：民國 {year} 年不合理")
BEFORE_ROC = define(
    "date.before_roc",
    "{value!r} is before ROC year 1 (1912-01-01)",
    "「{value}」早於民國元年（1912-01-01）",
)


class DateParseError(InputError):
    """A date that cannot be read; carries the field (and file and line when the caller gives them)."""

    def where(self, lang: str = "en") -> str:
        # a bare option or key (--as-of, last_performed.x) reads best as itself: "--as-of: '...' is not a date"
        if self.field and not self.file and not self.record:
            return self.field
        return super().where(lang)


def _year(y: int, roc: bool) -> int:
    return y + ROC_OFFSET if roc else y


def _end_of_month(y: int, m: int) -> dt.date:
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def parse_date(value: str | dt.date, *, field: str = "date", file: str | None = None,
               line: int | None = None) -> dt.date:
    """Parse ISO (2023-01-31) or ROC dates (112/01/31, 民國112年1月31日, 111年1月底, 111年底)."""
    if isinstance(value, dt.datetime):
        value = value.date()
    where = {"field": field, "file": file, "line": line, "expected": EXPECTED}
    if isinstance(value, dt.date):
        if value < ROC_EPOCH:
            raise DateParseError(BEFORE_ROC, value=value.isoformat(), **where)
        return value
    raw = str(value)
    s = re.sub(r"\s+", "", raw.translate(_FULLWIDTH))
    d = None
    try:
        if m := _ISO.match(s):
            d = dt.date(int(m[1]), int(m[2]), int(m[3]))
        elif m := _ROC_SLASH.match(s):
            d = dt.date(_year(int(m[1]), True), int(m[2]), int(m[3]))
        elif m := _CJK.match(s):
            y = int(m[1])
            roc = s.startswith("民國") or y < 1000
            if s.startswith("民國") and y >= 1000:
                raise DateParseError(ROC_YEAR, value=raw, year=y, **where)
            year = _year(y, roc)
            month = int(m[2]) if m[2] else None
            if m[3]:
                if month is None:
                    raise DateParseError(NEEDS_MONTH, value=raw, **where)
                d = dt.date(year, month, int(m[3]))
            elif m[4]:  # 底: end of the month, or of the year when no month is given
                d = _end_of_month(year, month or 12)
            elif month is None:
                raise DateParseError(NEEDS_DAY, value=raw, **where)
            else:
                d = dt.date(year, month, 1)
    except DateParseError:
        raise
    except ValueError as exc:
        raise DateParseError(NOT_REAL, value=raw, detail=str(exc), **where) from exc
    if d is None:
        raise DateParseError(NOT_A_DATE, value=raw, **where)
    if d < ROC_EPOCH:
        raise DateParseError(BEFORE_ROC, value=raw, **where)
    return d


def to_roc(d: dt.date) -> str:
    """112/01/31"""
    return f"{d.year - ROC_OFFSET:03d}/{d.month:02d}/{d.day:02d}"


def to_roc_zh(d: dt.date) -> str:
    """民國112年1月31日"""
    return f"民國{d.year - ROC_OFFSET}年{d.month}月{d.day}日"


def dual(d: dt.date | None) -> str:
    """2023-01-31 (112/01/31): how tables show a date."""
    if d is None:
        return ""
    return f"{d.isoformat()} ({to_roc(d)})"


def roc_year(year: int) -> int:
    return year - ROC_OFFSET


def end_of_month(d: dt.date) -> dt.date:
    return _end_of_month(d.year, d.month)


def _shift(y: int, m: int, months: int) -> tuple[int, int]:
    q, r = divmod(m - 1 + months, 12)
    return y + q, r + 1


def months_after(start: dt.date, months: int) -> dt.date:
    """The last day of a period of `months` months counted from `start` (民法第121條; `start` not counted)."""
    if months < 0:
        raise ValueError("months_after counts forward; use months_before")
    if months == 0:
        return start
    first = start + dt.timedelta(days=1)  # counting begins the day after (第120條第2項)
    y, m = _shift(first.year, first.month, months)
    if first.day > calendar.monthrange(y, m)[1]:
        return _end_of_month(y, m)  # no corresponding day in the last month: its last day
    return dt.date(y, m, first.day) - dt.timedelta(days=1)


def months_before(as_of: dt.date, months: int) -> dt.date:
    """The earliest date whose period of `months` months still reaches `as_of`: a record on or after it is
    "within `months` months" of `as_of`; one dated exactly `months` months before is within."""
    if months < 0:
        raise ValueError("months_before counts backward; use months_after")
    y, m = _shift(as_of.year, as_of.month, -months)
    d = dt.date(y, m, min(as_of.day, calendar.monthrange(y, m)[1]))
    one = dt.timedelta(days=1)
    while months_after(d, months) < as_of:
        d += one
    while months_after(d - one, months) >= as_of:
        d -= one
    return d


def within_months(when: dt.date, as_of: dt.date, months: int) -> bool:
    """`when` is on or before `as_of` and no more than `months` months before it."""
    return months_before(as_of, months) <= when <= as_of


def period_start(end: dt.date, months: int) -> dt.date:
    """The first day of the period of `months` months that ends on `end`."""
    return months_before(end, months) + dt.timedelta(days=1)
