"""Results of evidence checks: what an analyzer found, tied to the requirements it serves."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    MANUAL = "manual"
    ERROR = "error"
    PARTIAL = "partial"  # judged on the readable evidence; some files could not be used


class EvidenceError(ValueError):
    """A malformed evidence file. Always names the file, the line (0: the file as a whole) and the field."""

    def __init__(self, file: str, line: int, field: str, message: str):
        self.file, self.line, self.field, self.message = file, line, field, message
        super().__init__(f"{file}:{line}: field '{field}': {message}")

    def to_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "field": self.field, "message": self.message}


@dataclass
class Fact:
    """One concrete finding: which account, which file and line, which date."""

    message: str
    file: str | None = None
    line: int | None = None
    subject: str | None = None
    date: str | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in {
            "message": self.message, "file": self.file, "line": self.line,
            "subject": self.subject, "date": self.date,
        }.items() if v is not None}

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.file and self.line else (self.file or "")
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
    omitted: int = 0  # facts beyond the first N kept in the report, counted

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
