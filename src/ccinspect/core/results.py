"""What every engine returns: a status, facts tied to their evidence (file and line, or record), and for
alerts and gaps an ordered severity. Login alerts (detection) and continuity gaps become results here, once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .errors import GENERIC, InputError, Message


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    MANUAL = "manual"
    ERROR = "error"
    PARTIAL = "partial"  # judged on the evidence that could be read; some files could not be used


class Severity(StrEnum):
    """Ordered: INFO < LOW < MEDIUM < HIGH < CRITICAL (never by the spelling)."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __lt__(self, other):
        return self.rank < Severity(other).rank

    def __le__(self, other):
        return self.rank <= Severity(other).rank

    def __gt__(self, other):
        return self.rank > Severity(other).rank

    def __ge__(self, other):
        return self.rank >= Severity(other).rank

    __hash__ = StrEnum.__hash__


_RANK = {s: n for n, s in enumerate(Severity)}


class EvidenceError(InputError):
    """A malformed evidence file. Always names the file, the line (0: the file as a whole) and the field."""

    def __init__(self, file: str, line: int, field: str, message: Message | str, *,
                 expected: str | None = None, record: str | None = None, **params: Any):
        super().__init__(message, file=file, line=line, field=field, expected=expected, record=record, **params)

    def to_dict(self) -> dict:
        d = {"file": self.file, "line": self.line or 0, "field": self.field, "message": self.message}
        if self.message_id != GENERIC.id:  # a defined message: its id and Chinese text travel with it
            d.update(message_id=self.message_id, message_zh=self.msg.format("zh", **self.params))
        if self.expected:
            d["expected"] = self.expected
        return d


@dataclass
class Fact:
    """One concrete finding: which account, which file and line (or record), which date."""

    message: str
    file: str | None = None
    line: int | None = None
    subject: str | None = None
    date: str | None = None
    record: str | None = None  # where lines do not apply: a record id, a spreadsheet row
    severity: Severity | None = None
    data: dict = field(default_factory=dict)  # structured detail (an alert's accounts, addresses, counts)

    def to_dict(self) -> dict:
        d = {k: v for k, v in {
            "message": self.message, "file": self.file, "line": self.line, "record": self.record,
            "subject": self.subject, "date": self.date,
            "severity": self.severity.value if self.severity else None,
        }.items() if v is not None}
        return {**self.data, **d}

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.file and self.line else (self.file or self.record or "")
        return f"{self.message} [{where}]" if where else self.message


@dataclass
class Check:
    """One analyzer rule's verdict for the ref_ids it serves."""

    analyzer: str
    rule: str
    ref_ids: tuple[str, ...]
    status: Status
    summary: str
    facts: list[Fact] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # evidence files examined, relative to the folder
    error: dict | None = None
    unusable: list[dict] = field(default_factory=list)  # files it could not use: file, line, field, message
    omitted: int = 0  # facts beyond the first ones kept, counted

    def to_dict(self) -> dict:
        d = {
            "analyzer": self.analyzer, "rule": self.rule, "ref_ids": list(self.ref_ids),
            "status": self.status.value, "summary": self.summary,
            "facts": [f.to_dict() for f in self.facts], "files": self.files,
        }
        if self.error:
            d["error"] = self.error
        if self.unusable:
            d["unusable"] = self.unusable
        if self.omitted:
            d["facts_omitted"] = self.omitted
        return d


@dataclass
class RequirementResult:
    ref_id: str
    status: Status
    summary: str
    text: str = ""
    text_en: str = ""
    cadence: str | None = None
    checks: list[Check] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)  # {"path", "sha256"}

    def to_dict(self) -> dict:
        return {
            "ref_id": self.ref_id, "status": self.status.value, "summary": self.summary,
            "text": self.text, "text_en": self.text_en, "cadence": self.cadence,
            "checks": [c.to_dict() for c in self.checks], "evidence": self.files,
        }


# ---- login alerts -----------------------------------------------------------------------------------------

ALERT_KEYS = ("id", "kind", "severity", "accounts", "ips", "first", "last", "counts")


def _short(items, n: int = 5) -> str:
    items = [str(x) for x in items or []]
    return ", ".join(items[:n]) + (" …" if len(items) > n else "")


def alert_order(alert: Mapping) -> tuple:
    """Most severe first, then the earliest, then by kind (how alerts.json and every list of them sort)."""
    return (-Severity(alert.get("severity", "info")).rank, alert.get("first") or "", alert.get("kind") or "")


def alert_fact(alert: Mapping) -> Fact:
    """A login-monitoring alert (detection's Alert.as_dict(), or a row of alerts.json) as a fact."""
    sev = Severity(alert["severity"]) if alert.get("severity") in Severity._value2member_map_ else None
    head = " ".join(str(x) for x in (alert.get("id"), sev.value if sev else alert.get("severity"),
                                     alert.get("kind", "alert")) if x)
    msg = (f"{head}: accounts {_short(alert.get('accounts')) or '-'} from {_short(alert.get('ips')) or '-'} "
           f"({alert.get('first') or ''} – {alert.get('last') or ''}) {alert.get('detail') or ''}").strip()
    return Fact(msg, subject=alert.get("kind"), date=(alert.get("first") or "")[:10] or None, severity=sev,
                data={k: alert[k] for k in ALERT_KEYS if k in alert and k != "severity"})


def alert_facts(alerts: Iterable[Mapping], limit: int | None = None) -> list[Fact]:
    ordered = sorted(alerts, key=alert_order)
    return [alert_fact(a) for a in (ordered if limit is None else ordered[:limit])]


def login_review_results(alerts: Iterable[Mapping], review_ref_ids: Iterable[str] = ()) -> list[RequirementResult]:
    """One result per requirement an alert names, status manual (no machine can attest that staff reviewed
    the logs, CC-18000.4.b); the review requirements get a result even when nothing fired."""
    by_ref: dict[str, list[Mapping]] = {r: [] for r in review_ref_ids}
    for a in alerts:
        for r in a.get("ref_ids") or []:
            by_ref.setdefault(r, []).append(a)
    out = []
    for ref_id, hits in by_ref.items():
        kinds = Counter(str(a.get("kind", "alert")) for a in hits)
        summary = ("login monitoring: " + (f"{len(hits)} alert(s): " + ", ".join(
            f"{k} {n}" for k, n in sorted(kinds.items())) if hits else "no alerts"))
        out.append(RequirementResult(ref_id, Status.MANUAL, summary, checks=[
            Check("logins", "scan", (ref_id,), Status.MANUAL, summary, alert_facts(hits))]))
    return out


# ---- continuity gaps --------------------------------------------------------------------------------------

def gap_check(*, rule: str, ref_ids: Iterable[str], message: str, system: str | None = None,
              record: tuple[str, str] | None = None, due: str | None = None,
              severity: Severity = Severity.HIGH) -> Check:
    """A continuity gap (continuity.engine.Gap) as a failed check on the mechanism's requirements."""
    fact = Fact(message, subject=system, date=due, record=f"{record[0]}:{record[1]}" if record else None,
                severity=severity)
    return Check("continuity", rule, tuple(ref_ids), Status.FAIL, message, [fact])
