"""Times of log lines: zone for lines without an offset (--timezone), and "after the run" (future)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from .accounting import FUTURE_SKEW_SECONDS

MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}


def _offset(td: timedelta | None) -> str:
    s = int((td or timedelta()).total_seconds())
    sign = "+" if s >= 0 else "-"
    s = abs(s)
    return f"{sign}{s // 3600:02d}:{s % 3600 // 60:02d}"


class Clock:
    """ISO 8601 text with offset for local times in `tz`, with a per-hour cache of the zone's offset."""

    def __init__(self, tz: ZoneInfo, now: datetime | None = None):
        self.tz = tz
        now = now or datetime.now(tz)
        self.limit = now + timedelta(seconds=FUTURE_SKEW_SECONDS)
        self.limit_naive = self.limit.astimezone(tz).strftime("%Y-%m-%dT%H:%M:%S")
        self._off: dict[tuple, str] = {}
        self._parsed: dict[str, tuple[str, bool] | None] = {}  # busy logs repeat each second's stamp

    def local(self, y: int, mo: int, d: int, hms: str, frac: str = "") -> tuple[str, bool]:
        """(ISO text, dated after the run) of a wall-clock time in the zone; ValueError for an impossible date."""
        key = (y, mo, d, hms[:2])
        off = self._off.get(key)
        if off is None:
            off = _offset(datetime(y, mo, d, int(hms[:2]), int(hms[3:5]), tzinfo=self.tz).utcoffset())
            self._off[key] = off
        naive = f"{y:04d}-{mo:02d}-{d:02d}T{hms}"
        return naive + frac + off, naive > self.limit_naive

    def parse(self, text: str) -> tuple[str, bool] | None:
        """ISO 8601 text (offset kept; none means the zone) and whether it is after the run; None if not a time."""
        got = self._parsed.get(text, False)
        if got is False:
            if len(self._parsed) > 50_000:
                self._parsed.clear()
            got = self._parsed[text] = self._parse(text)
        return got

    def _parse(self, text: str) -> tuple[str, bool] | None:
        t = text.strip()
        if len(t) < 10 or not t[:4].isdigit():
            return None
        if t.endswith(("Z", "z")):
            t = t[:-1] + "+00:00"
        # journalctl short-iso writes +0800; fromisoformat reads both since 3.11
        try:
            dt = datetime.fromisoformat(t.replace(",", ".", 1) if "," in t[19:20] else t)
        except ValueError:
            return None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=self.tz)
        return dt.isoformat(), dt > self.limit

    def epoch(self, seconds: float) -> tuple[str, bool]:
        dt = datetime.fromtimestamp(seconds, UTC).astimezone(self.tz)
        return dt.isoformat(), dt > self.limit


class YearWalker:
    """The year of syslog lines that carry none: the first line's from --year (or the file's modification
    time: a month later than the file's is the year before), then +1 at each December→January turn."""

    def __init__(self, year: int | None, mtime: datetime):
        self.given = year
        self.mtime = mtime
        self.year: int | None = None
        self.prev = 0

    def __call__(self, mon: int) -> int:
        if self.year is None:
            if self.given is not None:
                self.year = self.given
            else:
                self.year = self.mtime.year - 1 if mon > self.mtime.month else self.mtime.year
        elif mon < self.prev - 6:      # Dec -> Jan
            self.year += 1
        elif mon > self.prev + 6 and self.given is None and self.year > self.mtime.year - 1:
            self.year -= 1             # a late December line after January ones (out of order)
        self.prev = mon
        return self.year
