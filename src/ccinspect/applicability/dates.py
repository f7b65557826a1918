"""Dates as brokers write them: ISO, and the ROC (民國) calendar, where year 1 is 1912."""

from __future__ import annotations

import calendar
import datetime as dt
import re

ROC_OFFSET = 1911

_FULLWIDTH = str.maketrans("０１２３４５６７８９／－．", "0123456789/-.")

_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_ROC_SLASH = re.compile(r"^(\d{2,3})[/.-](\d{1,2})[/.-](\d{1,2})$")
# 民國112年1月31日, 112年1月31日, 111年1月底, 111年底, 2023年1月31日
_CJK = re.compile(r"^(?:民國)?(\d{1,4})年(?:(\d{1,2})月)?(?:(\d{1,2})日|(底))?$")


class DateParseError(ValueError):
    pass


FIRST_DAY = dt.date(ROC_OFFSET + 1, 1, 1)  # 民國元年1月1日: no date before it has an ROC year


def _in_roc_era(d: dt.date, field: str, raw) -> dt.date:
    if d < FIRST_DAY:
        raise DateParseError(f"{field}: {raw!r} is before ROC year 1 (1912-01-01); expected a date from "
                             "1912-01-01 on")
    return d


def _year(y: int, roc: bool) -> int:
    return y + ROC_OFFSET if roc else y


def _end_of_month(y: int, m: int) -> dt.date:
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def parse_date(value: str | dt.date, *, field: str = "date") -> dt.date:
    """Parse ISO (2023-01-31) or ROC dates (112/01/31, 民國112年1月31日, 111年1月底, 111年底); dates before
    ROC year 1 (1912-01-01) are refused."""
    if isinstance(value, dt.datetime):
        return _in_roc_era(value.date(), field, value.date().isoformat())
    if isinstance(value, dt.date):
        return _in_roc_era(value, field, value.isoformat())
    return _in_roc_era(_parse(value, field), field, str(value))


def _parse(value, field: str) -> dt.date:
    raw = str(value)
    s = re.sub(r"\s+", "", raw.translate(_FULLWIDTH))
    try:
        if m := _ISO.match(s):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := _ROC_SLASH.match(s):
            return dt.date(_year(int(m[1]), True), int(m[2]), int(m[3]))
        if m := _CJK.match(s):
            y = int(m[1])
            roc = s.startswith("民國") or y < 1000
            if s.startswith("民國") and y >= 1000:
                raise DateParseError(f"{field}: {raw!r}: 民國 year {y} is not plausible")
            year = _year(y, roc)
            month = int(m[2]) if m[2] else None
            if m[3]:
                if month is None:
                    raise DateParseError(f"{field}: {raw!r}: a day needs a month")
                return dt.date(year, month, int(m[3]))
            if m[4]:  # 底: end of the month, or of the year when no month is given
                return _end_of_month(year, month or 12)
            if month is None:
                raise DateParseError(f"{field}: {raw!r}: give a month and day, or 年底")
            return dt.date(year, month, 1)
    except ValueError as exc:
        if isinstance(exc, DateParseError):
            raise
        raise DateParseError(f"{field}: {raw!r} is not a real date ({exc})") from exc
    raise DateParseError(
        f"{field}: {raw!r} is not a date; expected ISO 2023-01-31 or ROC 112/01/31, 民國112年1月31日, 111年1月底"
    )


def to_roc(d: dt.date) -> str:
    """112/01/31"""
    return f"{roc_year(d.year):03d}/{d.month:02d}/{d.day:02d}"


def to_roc_zh(d: dt.date) -> str:
    """民國112年1月31日"""
    return f"民國{roc_year(d.year)}年{d.month}月{d.day}日"


def dual(d: dt.date | None) -> str:
    """2023-01-31 (112/01/31): how tables show a date."""
    if d is None:
        return ""
    return f"{d.isoformat()} ({to_roc(d)})"


def add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def end_of_month(d: dt.date) -> dt.date:
    return _end_of_month(d.year, d.month)


def months_after(d: dt.date, months: int) -> dt.date:
    """`months` later; a month's last day stays a month's last day (09-30 + 3 → 12-31, 11-30 + 3 → end of Feb)."""
    later = add_months(d, months)
    return end_of_month(later) if d == end_of_month(d) else later


def roc_year(year: int) -> int:
    """The ROC year; a year before 1912 has none (never a zero or negative ROC year)."""
    if year <= ROC_OFFSET:
        raise ValueError(f"{year} is before ROC year 1 (1912)")
    return year - ROC_OFFSET
