"""`ccinspect verify`: walk the audit trail's hash chain; check every evidence record against the audit entry
that recorded its creation (a record added, changed or deleted outside the application shows) and every
evidence file against its SHA-256; list orphans: files in the evidence store that no record names (left by a
crash between a file's write and its record's commit) and temporary files of interrupted writes. A file the
audit trail names but no record does is never swept: --sweep-orphans moves it to the quarantine folder. The
chain's head is checked against the anchor file kept outside the database (settings.AUDIT_ANCHOR_FILE, or
--anchor FILE), and appended to it when all is well. `--sweep-orphans` removes orphans older than a grace
period, so a write whose record is about to be committed is never touched."""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from ccinspect.web.accounts import chain
from ccinspect.web.accounts.chain import Problem


@dataclass
class Report:
    audit_entries: int = 0
    evidence_records: int = 0
    evidence_files: int = 0
    head_hash: str = ""
    head_id: int | None = None
    anchors_checked: int = 0
    anchored: bool = False  # the head was appended to the anchor file
    problems: list[Problem] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)  # relative to MEDIA_ROOT; not problems of the data
    swept: list[str] = field(default_factory=list)
    # files the audit trail names but no evidence record does: never swept; moved to quarantine on --sweep
    quarantined: list[dict] = field(default_factory=list)
    # Uploads a crash left half-spooled in FILE_UPLOAD_TEMP_DIR (names relative to it); swept with the orphans.
    stale_uploads: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {"ok": self.ok, "audit_entries": self.audit_entries, "audit_head_hash": self.head_hash,
                "audit_head_id": self.head_id, "anchors_checked": self.anchors_checked, "anchored": self.anchored,
                "evidence_records": self.evidence_records, "evidence_files": self.evidence_files,
                "problems": [{"kind": p.kind, "id": p.id, "message": p.message} for p in self.problems],
                "orphans": self.orphans, "swept": self.swept, "stale_uploads": self.stale_uploads,
                "quarantined": self.quarantined}


def verify_audit(report: Report, using: str = "default") -> None:
    from ccinspect.web.accounts.models import AuditChainHead, AuditEvent

    head = AuditChainHead.objects.using(using).filter(pk=chain.HEAD_ID).first()
    rows = (AuditEvent.objects.using(using).order_by("id")
            .values("id", "hash", "prev_hash", *chain.FIELDS).iterator(chunk_size=2000))
    count, problems = chain.verify_chain(rows, None if head is None else (head.last_id, head.last_hash))
    report.audit_entries = count
    report.head_hash = head.last_hash if head else ""
    report.head_id = head.last_id if head else None
    report.problems.extend(problems)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


EVIDENCE_MODEL = "inspections.Evidence"
# what the audit entry of an evidence record's creation holds and the record must still say
RECORDED = ("organisation_id", "inspection_id", "item_id", "finding_id", "kind", "original_name", "stored_path",
            "sha256", "size", "content_type", "uploaded_by_id", "uploaded_at", "note", "supersedes_id", "metadata")
EMPTY = (None, "", [], {})


def recorded_evidence(using: str = "default") -> dict[int, tuple[int, dict]]:
    """Evidence id -> (id of the audit entry recording its creation, the values it recorded)."""
    from ccinspect.web.accounts.models import AuditEvent

    out: dict[int, tuple[int, dict]] = {}
    rows = (AuditEvent.objects.using(using).filter(model=EVIDENCE_MODEL, action="create").order_by("id")
            .values("id", "object_id", "changes").iterator(chunk_size=2000))
    for row in rows:
        if str(row["object_id"]).isdigit() and isinstance(row["changes"], dict):
            values = {k: v[1] for k, v in row["changes"].items() if isinstance(v, list) and len(v) == 2}
            out.setdefault(int(row["object_id"]), (row["id"], values))
    return out


def _same(name: str, recorded, actual) -> bool:
    if recorded in EMPTY and actual in EMPTY:
        return True
    if name == "uploaded_at" and isinstance(recorded, str) and isinstance(actual, str):
        try:
            return chain._when(recorded) == chain._when(actual)
        except ValueError:
            return False
    return chain.normalise_json(recorded) == chain.normalise_json(actual)


def _check_record(report: Report, ev, entry: tuple[int, dict] | None) -> None:
    from ccinspect.web.accounts.audit import snapshot

    if entry is None:
        report.problems.append(Problem("evidence-added", ev.pk, f"evidence {ev.pk} ({ev.original_name}) was added "
                                       "outside the application: no audit entry records its creation"))
        return
    entry_id, values = entry
    now = snapshot(ev)
    changed = [f"{f} is {now.get(f)!r}, recorded {values.get(f)!r}" for f in RECORDED
               if not _same(f, values.get(f), now.get(f))]
    if changed:
        report.problems.append(Problem("evidence-changed", ev.pk, f"evidence {ev.pk} was changed outside the "
                                       f"application (audit entry {entry_id} recorded its creation): "
                                       + "; ".join(changed)))


def verify_evidence(report: Report, using: str = "default", recorded: dict | None = None) -> None:
    from ccinspect.web.inspections.evidence import UploadError, path_of
    from ccinspect.web.inspections.models import Evidence

    recorded = recorded_evidence(using) if recorded is None else recorded
    seen: set[int] = set()
    digests: dict[Path, str | None] = {}
    for ev in Evidence.objects.using(using).order_by("id").iterator(chunk_size=2000):
        report.evidence_records += 1
        seen.add(ev.pk)
        _check_record(report, ev, recorded.get(ev.pk))
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
    for pk in sorted(set(recorded) - seen):
        entry_id, values = recorded[pk]
        report.problems.append(Problem("evidence-deleted", pk, f"evidence {pk} ({values.get('original_name')}, "
                                       f"SHA-256 {values.get('sha256')}) was deleted outside the application; "
                                       f"audit entry {entry_id} recorded its creation and its file "
                                       f"{values.get('stored_path')}"))


GRACE_MINUTES = 60


def _settled(p: Path, cutoff: float) -> bool:
    """Last modified before `cutoff`: False for a younger file (a write in flight) or one already gone."""
    try:
        return p.lstat().st_mtime <= cutoff
    except FileNotFoundError:
        return False


def find_orphans(using: str = "default", *, grace_minutes: float = GRACE_MINUTES,
                 also_named: set[str] = frozenset()) -> list[Path]:
    """Files under MEDIA_ROOT no evidence record names (nor `also_named`), last modified more than
    `grace_minutes` ago (a file being stored now, or just stored again, is younger: `evidence._write` touches a
    reused one)."""
    from ccinspect.web.inspections.models import Evidence

    root = Path(settings.MEDIA_ROOT)
    if not root.is_dir():
        return []
    named = set(Evidence.objects.using(using).values_list("stored_path", flat=True).iterator(chunk_size=5000))
    named |= set(also_named)
    cutoff = time.time() - grace_minutes * 60
    out = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if rel not in named and _settled(p, cutoff):
                out.append(p)
    return sorted(out)


def quarantine(report: Report, recorded: dict[int, tuple[int, dict]], using: str = "default", *,
               move: bool = False) -> set[str]:
    """Files the audit trail names (the creation of an evidence record) that no record names now: evidence a
    database edit cut loose. Reported, never swept; with `move`, moved to settings.EVIDENCE_QUARANTINE (same
    relative path) so the store holds only what records name. Returns their names, to keep out of the sweep."""
    from ccinspect.web.inspections.models import Evidence

    root = Path(settings.MEDIA_ROOT)
    by_path: dict[str, tuple[int, int, str]] = {}
    for pk, (entry_id, values) in recorded.items():
        rel = values.get("stored_path")
        if isinstance(rel, str) and rel:
            by_path.setdefault(rel, (entry_id, pk, str(values.get("sha256", ""))))
    if not by_path:
        return set()
    named_now = set(Evidence.objects.using(using).values_list("stored_path", flat=True).iterator(chunk_size=5000))
    kept = set()
    dest_root = Path(getattr(settings, "EVIDENCE_QUARANTINE", root.parent / "evidence-quarantine"))
    for rel, (entry_id, pk, sha) in sorted(by_path.items()):
        if rel in named_now or ".." in rel.split("/") or rel.startswith("/"):
            continue
        src = root / rel
        kept.add(rel)
        if not src.is_file():
            continue
        item = {"file": rel, "evidence_id": pk, "audit_entry": entry_id, "sha256_recorded": sha, "moved_to": None}
        if move:
            dest = dest_root / rel
            _move(src, dest)
            item["moved_to"] = str(dest)
        report.quarantined.append(item)
    return kept


def _move(src: Path, dest: Path) -> None:
    """Into the quarantine folder, which may be on another file system: copied whole, then the source goes."""
    from ccinspect.core.files import atomic_write_bytes

    dest.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(dest, src.read_bytes(), mode=0o440)
    if sha256_file(dest) == sha256_file(src):
        src.unlink()


def verify_orphans(report: Report, using: str = "default", *, sweep: bool = False,
                   grace_minutes: float = GRACE_MINUTES, recorded: dict | None = None) -> None:
    root = Path(settings.MEDIA_ROOT)
    recorded = recorded_evidence(using) if recorded is None else recorded
    chain_named = quarantine(report, recorded, using, move=sweep)
    for p in find_orphans(using, grace_minutes=grace_minutes, also_named=chain_named):
        rel = p.relative_to(root).as_posix()
        report.orphans.append(rel)
        if sweep:
            p.unlink(missing_ok=True)
            report.swept.append(rel)
    spool = settings.FILE_UPLOAD_TEMP_DIR  # ours only: the system's /tmp is never swept
    if spool and Path(spool).is_dir():
        cutoff = time.time() - grace_minutes * 60
        for p in sorted(Path(spool).iterdir()):
            if p.is_file() and _settled(p, cutoff):  # a younger one is an upload still arriving
                report.stale_uploads.append(p.name)
                if sweep:
                    p.unlink(missing_ok=True)


class AnchorError(ValueError):
    """An anchor file that cannot be read as anchors (file, line, what was expected)."""


def read_anchors(path: Path) -> list[tuple[int, str, str]]:
    """Lines `<entry id> <sha256> <ISO time>` written by earlier runs; '#' starts a comment."""
    anchors = []
    if not path.exists():
        return anchors
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 3 or not parts[0].isdigit() or len(parts[1]) != 64 or \
                any(c not in "0123456789abcdef" for c in parts[1]):
            raise AnchorError(f"{path}, line {n}: expected '<entry id> <64 hex SHA-256> <time>', got {line[:80]!r}")
        anchors.append((int(parts[0]), parts[1], parts[2]))
    return anchors


def check_anchors(report: Report, path: Path, using: str = "default", *, record_head: bool = True) -> None:
    """The chain head recorded outside the database. Someone who can rewrite the whole table can make the
    chain consistent again, but cannot make an entry an earlier run anchored carry its old hash: every
    anchored (id, hash) must still be there. When all is well, the current head is appended."""
    from django.utils import timezone

    from ccinspect.web.accounts.models import AuditEvent

    anchors = read_anchors(path)
    report.anchors_checked = len(anchors)
    stored = dict(AuditEvent.objects.using(using).filter(id__in={a[0] for a in anchors}).values_list("id", "hash"))
    for rid, digest, when in anchors:
        if rid not in stored:
            report.problems.append(Problem("anchor", rid, f"audit entry {rid}, anchored in {path.name} at {when}, "
                                                          "is gone"))
        elif stored[rid] != digest:
            report.problems.append(Problem("anchor", rid, f"audit entry {rid} no longer carries the hash anchored "
                                                          f"in {path.name} at {when}: the trail was rewritten"))
    if record_head and report.ok and report.head_id is not None and \
            (not anchors or anchors[-1][:2] != (report.head_id, report.head_hash)):
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            if not anchors and fh.tell() == 0:
                fh.write("# ccinspect audit-chain anchors: <entry id> <SHA-256> <time>; keep this file off the "
                         "database server\n")
            fh.write(f"{report.head_id} {report.head_hash} {timezone.now().isoformat(timespec='seconds')}\n")
            fh.flush()
            os.fsync(fh.fileno())
        report.anchored = True


def verify(using: str = "default", *, audit: bool = True, evidence: bool = True, sweep_orphans: bool = False,
           grace_minutes: float = GRACE_MINUTES, anchor: Path | None = None, record_head: bool = True) -> Report:
    report = Report()
    if audit:
        verify_audit(report, using)
        if anchor is not None:
            check_anchors(report, Path(anchor), using, record_head=record_head)
    if evidence:
        recorded = recorded_evidence(using)
        verify_evidence(report, using, recorded)
        verify_orphans(report, using, sweep=sweep_orphans, grace_minutes=grace_minutes, recorded=recorded)
    return report
