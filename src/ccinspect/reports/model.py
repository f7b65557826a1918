"""The data the reports are made from: plain dataclasses, no database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from ccinspect.core.dates import months_after
from ccinspect.core.errors import InputError


class ReportError(InputError):
    """The input cannot make a report; the message says why."""


@dataclass(frozen=True)
class ItemRow:
    ref_id: str
    chapter: str
    text: str
    text_en: str = ""
    label: str = ""
    depth: int = 0
    assessable: bool = True
    result: str = "not_assessed"  # compliant | deficient | not_applicable | not_assessed
    na_reason: str = ""
    notes: str = ""
    automated_status: str = ""  # pass | fail | manual | error | ""


@dataclass(frozen=True)
class EvidenceRow:
    ref_id: str
    name: str
    sha256: str
    size: int
    kind: str = "upload"  # upload | retest | automated
    uploaded_by: str = ""
    uploaded_at: dt.datetime | None = None
    note: str = ""
    supersedes: str = ""  # the name (and digest) of the version this one replaces


@dataclass(frozen=True)
class FindingRow:
    id: str  # "F-12"
    ref_id: str
    title: str
    severity: str  # low | medium | high | critical
    deduction_points: Decimal | float | int
    status: str  # open | in_progress | ready_for_retest | closed
    due_date: dt.date
    owner: str = ""
    description: str = ""
    remediation_plan: str = ""
    closed_at: dt.datetime | None = None
    overdue: bool = False
    broker: str = ""
    inspection: str = ""  # the inspection it came from
    period: str = ""  # e.g. 2025-01-01 – 2025-06-30
    raised_at: dt.datetime | None = None
    last_note: str = ""  # the latest history entry


@dataclass(frozen=True)
class SignOff:
    role: str  # prepared | submitted | signed_off | returned
    name: str
    title: str = ""
    at: dt.datetime | None = None
    note: str = ""


@dataclass
class InspectionReport:
    broker: str
    tier: int
    title: str
    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    due: dt.date
    framework_version: str
    status: str  # in_progress | submitted | signed_off
    items: list[ItemRow]
    title_en: str = ""
    evidence: list[EvidenceRow] = field(default_factory=list)
    findings: list[FindingRow] = field(default_factory=list)
    signoffs: list[SignOff] = field(default_factory=list)
    generated_at: dt.datetime | None = None
    inspection_id: str = ""

    def __post_init__(self) -> None:
        if not self.broker.strip():
            raise ReportError("the report needs the broker's name")
        if self.period_end < self.period_start:
            raise ReportError(f"the period ends ({self.period_end}) before it starts ({self.period_start})")
        if not any(i.assessable for i in self.items):
            raise ReportError("the inspection has no assessable checklist item")

    def counts(self) -> dict[str, int]:
        out = {"compliant": 0, "deficient": 0, "not_applicable": 0, "not_assessed": 0}
        for i in self.items:
            if i.assessable:
                out[i.result] = out.get(i.result, 0) + 1
        return out

    def points(self) -> Decimal:
        return sum((Decimal(str(f.deduction_points)) for f in self.findings), Decimal(0))


@dataclass
class TrackingList:
    """The deficiency and remediation tracking list (CC-21000.2): every finding and where it stands."""

    scope: str  # the broker, or "all brokers"
    findings: list[FindingRow]
    as_of: dt.date
    generated_at: dt.datetime | None = None


@dataclass(frozen=True)
class Signatory:
    role: str  # ciso | chairman | president | chief_auditor
    name: str = ""
    title: str = ""


SIGNATORY_ROLES = ("ciso", "chairman", "president", "chief_auditor")


@dataclass(frozen=True)
class StatementChapter:
    chapter: str
    name: str
    inspections: int
    signed_off: int
    assessed: int
    compliant: int
    findings: int
    closed: int

    @property
    def compliance(self) -> float | None:
        return round(100 * self.compliant / self.assessed, 1) if self.assessed else None


def disclosure_deadline(fiscal_year_end: dt.date) -> dt.date:
    """Three months after the fiscal year end (CC-12000.6), by the same rule as the calendar's deadline."""
    return months_after(fiscal_year_end, 3)


@dataclass
class Statement:
    """The draft 資訊安全整體執行情形聲明書 for one fiscal year (CC-12000.6)."""

    broker: str
    fiscal_year_start: dt.date
    fiscal_year_end: dt.date
    signatories: list[Signatory]
    chapters: list[StatementChapter] = field(default_factory=list)
    board_approval_date: dt.date | None = None
    open_findings: int = 0
    overdue_findings: int = 0
    incidents: int = 0
    incidents_reported_on_time: int = 0
    generated_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        if not self.broker.strip():
            raise ReportError("the statement needs the broker's name")
        if self.fiscal_year_end <= self.fiscal_year_start:
            raise ReportError("the fiscal year must end after it starts")
        roles = [s.role for s in self.signatories]
        if sorted(roles) != sorted(SIGNATORY_ROLES):
            raise ReportError("the statement has exactly four signatories: the most senior information security "
                              "officer (ciso), the chairman, the president and the chief auditor "
                              f"(got {', '.join(roles) or 'none'})")
        if self.board_approval_date is not None and self.board_approval_date <= self.fiscal_year_end:
            raise ReportError(f"the board approves the statement after the fiscal year ends "
                              f"({self.fiscal_year_end}); {self.board_approval_date} is too early")
        if self.board_approval_date is not None and self.board_approval_date > self.deadline:
            raise ReportError(f"board approval on {self.board_approval_date} is after the disclosure deadline "
                              f"{self.deadline}")

    @property
    def deadline(self) -> dt.date:
        return disclosure_deadline(self.fiscal_year_end)

    def signatory(self, role: str) -> Signatory:
        return next(s for s in self.signatories if s.role == role)
