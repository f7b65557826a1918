"""The reporting clocks of an incident, in Asia/Taipei time. Pure functions: no database, `now` is passed in.

Every clock runs from the detection time: the initial report (初步通報) within 30 minutes, the formal
report (正式通報) within 24 hours and the closure report (解除通報) within 3 days (seed 003), and for an incident
in which personal data was stolen, altered, destroyed, lost or leaked, the immediate report to TWSE
(CC-20000.6, 立即函報; 30 minutes by default). The durations come from the environment and are copied onto the
incident when it is recorded, so a later change of policy does not move the deadlines of past incidents:

| variable | default |
| --- | --- |
| CCINSPECT_INCIDENT_INITIAL_MINUTES | 30 |
| CCINSPECT_INCIDENT_FORMAL_HOURS | 24 |
| CCINSPECT_INCIDENT_CLOSURE_DAYS | 3 |
| CCINSPECT_INCIDENT_TWSE_MINUTES | 30 |
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ccinspect.core.settings import env

TAIPEI = ZoneInfo("Asia/Taipei")
STAGES = ("initial", "formal", "closure", "twse")
MET, MISSED, OVERDUE, PENDING = "met", "missed", "overdue", "pending"

_ENV = {"initial": ("CCINSPECT_INCIDENT_INITIAL_MINUTES", 30, 1),
        "formal": ("CCINSPECT_INCIDENT_FORMAL_HOURS", 24, 60),
        "closure": ("CCINSPECT_INCIDENT_CLOSURE_DAYS", 3, 24 * 60),
        "twse": ("CCINSPECT_INCIDENT_TWSE_MINUTES", 30, 1)}


class ClockConfigError(ValueError):
    pass


def durations() -> dict[str, int]:
    """The configured durations, in minutes."""
    out = {}
    for stage, (name, default, unit) in _ENV.items():
        raw = (env(name) or "").strip()
        if not raw:
            out[stage] = default * unit
            continue
        try:
            value = int(raw)
        except ValueError:
            raise ClockConfigError(f"{name}={raw!r} is not a whole number") from None
        if value <= 0:
            raise ClockConfigError(f"{name}={raw!r} must be greater than zero")
        out[stage] = value * unit
    return out


def aware(value: dt.datetime) -> dt.datetime:
    """A naive datetime is Taipei wall-clock time (Taiwan has no daylight saving time)."""
    return value.replace(tzinfo=TAIPEI) if value.tzinfo is None else value


def taipei(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else aware(value).astimezone(TAIPEI)


@dataclass(frozen=True)
class Clock:
    stage: str
    deadline: dt.datetime
    done_at: dt.datetime | None = None

    def state(self, now: dt.datetime) -> str:
        if self.done_at is not None:
            return MET if self.done_at <= self.deadline else MISSED
        return OVERDUE if aware(now) > self.deadline else PENDING

    def remaining(self, now: dt.datetime) -> dt.timedelta:
        """Until the deadline (negative once past it); for a clock that is done, the margin it was done with."""
        return self.deadline - (self.done_at if self.done_at is not None else aware(now))

    @property
    def deadline_local(self) -> dt.datetime:
        return taipei(self.deadline)


def clocks(detected_at: dt.datetime, minutes: dict[str, int], done: dict[str, dt.datetime | None],
           *, personal_data: bool) -> list[Clock]:
    start = aware(detected_at)
    out = []
    for stage in STAGES:
        if stage == "twse" and not personal_data:
            continue
        at = done.get(stage)
        out.append(Clock(stage, start + dt.timedelta(minutes=minutes[stage]), aware(at) if at else None))
    return out


def split(delta: dt.timedelta) -> tuple[int, int, int]:
    """(days, hours, minutes) of |delta|, minutes rounded down."""
    total = int(abs(delta).total_seconds() // 60)
    return total // (24 * 60), total // 60 % 24, total % 60
