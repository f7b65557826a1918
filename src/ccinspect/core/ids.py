"""Identifiers as small value types, each with one parser (`parse`) and one formatter (`str`).

- `RequirementId`: a requirement of the regulation, CC-NNNNN[.label…] (CC-17010.i.c, CC-20000.七).
- `OccurrenceId`: one calendar occurrence, `inspection:<ref_id>:<period>` (period 2025-03, 2025H1, 2025)
  or `duty:<duty id>:<due date>`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .errors import InputError, define

_REF = re.compile(r"^CC-(\d{5})((?:\.[0-9a-z一二三四五六七八九十]+)*)$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_HALF = re.compile(r"^(\d{4})H([12])$")
_YEAR = re.compile(r"^(\d{4})$")

BAD_REF = define(
    "id.requirement",
    "{value!r} is not a requirement id",
    "「{value}」不是查核項目編號",
)
BAD_OCCURRENCE = define(
    "id.occurrence",
    "{value!r} is not a calendar occurrence id",
    "「{value}」不是行事曆項目編號",
)
REF_EXPECTED = "CC-NNNNN[.label…], e.g. CC-17010.i.c"
OCC_EXPECTED = "inspection:CC-NNNNN:2025-03|2025H1|2025 or duty:<id>:2025-06-30"


@dataclass(frozen=True, order=False)
class RequirementId:
    chapter: str  # CC-17010
    labels: tuple[str, ...] = ()  # ("i", "c")

    @classmethod
    def parse(cls, value: str, *, field: str = "ref_id") -> RequirementId:
        m = _REF.match(str(value).strip()) if isinstance(value, str) else None
        if not m:
            raise InputError(BAD_REF, value=str(value), field=field, expected=REF_EXPECTED)
        return cls(f"CC-{m[1]}", tuple(p for p in m[2].split(".") if p))

    @staticmethod
    def valid(value: str) -> bool:
        return isinstance(value, str) and _REF.match(value) is not None

    def __str__(self) -> str:
        return ".".join((self.chapter, *self.labels))

    @property
    def sort_key(self) -> tuple:
        """Numeric labels sort as numbers (CC-17010.2 before CC-17010.10)."""
        return (int(self.chapter[3:]), *((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.labels))

    @property
    def parent(self) -> RequirementId | None:
        return RequirementId(self.chapter, self.labels[:-1]) if self.labels else None

    def within(self, unit: RequirementId | str) -> bool:
        """This requirement is `unit` or one of its descendants."""
        u = unit if isinstance(unit, RequirementId) else RequirementId.parse(unit)
        return self.chapter == u.chapter and self.labels[:len(u.labels)] == u.labels


def ref_key(ref: str) -> tuple:
    """Sort key for a requirement id given as text; text that is not one sorts last, as itself."""
    return RequirementId.parse(ref).sort_key if RequirementId.valid(ref) else (10**6, ref)


def within(ref: str, unit: str) -> bool:
    """`ref` is the requirement `unit` or one of its descendants (both as text)."""
    return ref == unit or ref.startswith(unit + ".")


@dataclass(frozen=True)
class OccurrenceId:
    kind: str  # "inspection" or "duty"
    subject: str  # the unit's ref_id, or the duty's id
    period: str  # 2025-03 | 2025H1 | 2025 for inspections; the due date (ISO) for duties

    @classmethod
    def inspection(cls, ref_id: str, cadence: str, period_end: dt.date) -> OccurrenceId:
        label = {"monthly": f"{period_end.year}-{period_end.month:02d}",
                 "semiannual": f"{period_end.year}H{1 if period_end.month <= 6 else 2}",
                 "annual": f"{period_end.year}"}[cadence]
        return cls("inspection", ref_id, label)

    @classmethod
    def duty(cls, duty_id: str, due: dt.date) -> OccurrenceId:
        return cls("duty", duty_id, due.isoformat())

    @classmethod
    def parse(cls, value: str, *, field: str = "occurrence") -> OccurrenceId:
        parts = value.split(":") if isinstance(value, str) else []
        if len(parts) == 3 and all(parts):
            occ = cls(*parts)
            if occ.kind == "inspection" and RequirementId.valid(occ.subject) and occ.cadence is not None:
                return occ
            if occ.kind == "duty":
                try:
                    dt.date.fromisoformat(occ.period)
                    return occ
                except ValueError:
                    pass
        raise InputError(BAD_OCCURRENCE, value=str(value), field=field, expected=OCC_EXPECTED)

    def __str__(self) -> str:
        return f"{self.kind}:{self.subject}:{self.period}"

    @property
    def cadence(self) -> str | None:
        """monthly, semiannual or annual for an inspection; None for a duty."""
        if self.kind != "inspection":
            return None
        for cadence, pattern in (("monthly", _MONTH), ("semiannual", _HALF), ("annual", _YEAR)):
            if pattern.match(self.period):
                return cadence
        return None

    @property
    def year(self) -> int:
        return int(self.period[:4])
