"""`ccinspect verify`: walk the audit trail's hash chain and recompute every evidence file's SHA-256."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ccinspect.web.accounts import chain
from ccinspect.web.accounts.chain import Problem


@dataclass
class Report:
    audit_entries: int = 0
    evidence_records: int = 0
    evidence_files: int = 0
    head_hash: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {"ok": self.ok, "audit_entries": self.audit_entries, "audit_head_hash": self.head_hash,
                "evidence_records": self.evidence_records, "evidence_files": self.evidence_files,
                "problems": [{"kind": p.kind, "id": p.id, "message": p.message} for p in self.problems]}


def verify_audit(report: Report, using: str = "default") -> None:
    from ccinspect.web.accounts.models import AuditChainHead, AuditEvent

    head = AuditChainHead.objects.using(using).filter(pk=chain.HEAD_ID).first()
    rows = (AuditEvent.objects.using(using).order_by("id")
            .values("id", "hash", "prev_hash", *chain.FIELDS).iterator(chunk_size=2000))
    count, problems = chain.verify_chain(rows, None if head is None else (head.last_id, head.last_hash))
    report.audit_entries = count
    report.head_hash = head.last_hash if head else ""
    report.problems.extend(problems)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_evidence(report: Report, using: str = "default") -> None:
    from ccinspect.web.inspections.evidence import UploadError, path_of
    from ccinspect.web.inspections.models import Evidence

    digests: dict[Path, str | None] = {}
    for ev in Evidence.objects.using(using).order_by("id").iterator(chunk_size=2000):
        report.evidence_records += 1
        try:
            path = path_of(ev)
        except UploadError:
            report.problems.append(Problem("evidence-path", ev.pk, f"evidence {ev.pk} ({ev.original_name}): "
                                                                   f"stored path {ev.stored_path!r} is outside the store"))
            continue
        if path not in digests:
            digests[path] = sha256_file(path) if path.is_file() else None
            report.evidence_files += 1
        actual = digests[path]
        if actual is None:
            report.problems.append(Problem("evidence-missing", ev.pk, f"evidence {ev.pk} ({ev.original_name}): "
                                                                      f"file {ev.stored_path} is missing"))
        elif actual != ev.sha256:
            report.problems.append(Problem("evidence-altered", ev.pk, f"evidence {ev.pk} ({ev.original_name}): "
                                           f"file {ev.stored_path} was altered (SHA-256 {actual}, recorded "
                                           f"{ev.sha256})"))


def verify(using: str = "default", *, audit: bool = True, evidence: bool = True) -> Report:
    report = Report()
    if audit:
        verify_audit(report, using)
    if evidence:
        verify_evidence(report, using)
    return report
