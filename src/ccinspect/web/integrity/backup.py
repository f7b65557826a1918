"""`ccinspect backup` and `ccinspect restore`: one tar archive with the database (Django's dumpdata of the
project's apps, natural foreign keys), every evidence file, and a manifest with the SHA-256 of each member.

Restore checks the whole archive first (every manifest hash, every member present and none unlisted, the dump
parses, every evidence record's file is there with its recorded hash, the migrations are known to this
version) and changes nothing unless all of it holds. Then it migrates the target, writes the evidence files
(content-addressed, so existing ones are kept), and in one transaction empties the project's tables and loads
the dump; it verifies the audit chain and the evidence before committing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from django.core.serializers.json import DjangoJSONEncoder
from django.core.serializers.json import Serializer as JsonSerializer

from ccinspect.core.files import atomic_file

from .verify import sha256_file

FORMAT = "ccinspect-backup"
VERSION = 1
MANIFEST = "manifest.json"
DUMP = "database.json"
EVIDENCE_DIR = "evidence/"
# what is backed up: the project's data, the MFA devices and the sign-in records; not sessions (users sign in
# again), content types and permissions (rebuilt by migrate, referred to by natural key)
# (the task queue's results are not: they are re-run or re-sent)
LABELS = ["auth.Group", "accounts", "inspections", "incidents", "continuity", "oversight", "notification",
          "otp_totp", "axes"]
NATURAL = {"auth.Permission", "contenttypes.ContentType"}
SEEDED = {"inspections.deductionrule", "accounts.auditchainhead"}  # rows the migrations insert


class BackupError(RuntimeError):
    """A refused backup or restore: the message says what is wrong."""


def _models():
    from django.apps import apps

    out = []
    for label in LABELS:
        if "." in label:
            out.append(apps.get_model(label))
        else:
            out.extend(m for m in apps.get_app_config(label).get_models() if not m._meta.proxy)
    return out


class _Encoder(DjangoJSONEncoder):
    """Django's encoder cuts times to the millisecond; a backup keeps every microsecond (the audit chain's
    hashes cover them)."""

    def default(self, o):
        if isinstance(o, dt.datetime):
            return o.isoformat().replace("+00:00", "Z")
        if isinstance(o, dt.time):
            return o.isoformat()
        return super().default(o)


class _Serializer(JsonSerializer):
    """dumpdata's JSON, with natural keys only where ids differ between databases (permissions, content
    types): every other reference keeps its id, and no row costs a query for its user's natural key."""

    @staticmethod
    def _natural(field) -> bool:
        return field.remote_field.model._meta.label in NATURAL

    def handle_fk_field(self, obj, field):
        self.use_natural_foreign_keys = self._natural(field)
        super().handle_fk_field(obj, field)

    def handle_m2m_field(self, obj, field):
        self.use_natural_foreign_keys = self._natural(field)
        super().handle_m2m_field(obj, field)


def _applied_migrations(using: str) -> dict[str, list[str]]:
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    out: dict[str, list[str]] = {}
    for app, name in sorted(MigrationRecorder(connections[using]).applied_migrations()):
        out.setdefault(app, []).append(name)
    return out


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _add(tar: tarfile.TarFile, name: str, data: bytes, members: dict) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o440
    info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))
    members[name] = {"sha256": _sha(data), "size": len(data)}


def backup(out: Path, using: str = "default") -> dict:
    """Write the archive to `out` (atomically: a temporary file renamed into place). Refuses when an
    evidence file is missing or does not match its recorded SHA-256."""
    from django.conf import settings
    from django.db import connections, transaction

    out = Path(out)
    conn = connections[using]
    with transaction.atomic(using=using):
        if conn.vendor == "postgresql":  # one snapshot for the whole dump
            with conn.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        buf = io.StringIO()
        objects = (obj for model in _models() for obj in model._base_manager.using(using).order_by("pk").iterator())
        _Serializer().serialize(objects, stream=buf, cls=_Encoder)
        migrations = _applied_migrations(using)
    dump = buf.getvalue().encode("utf-8")
    records = json.loads(dump)
    evidence = _evidence_files(records)
    counts: dict[str, int] = {}
    for r in records:
        counts[r["model"]] = counts.get(r["model"], 0) + 1
    head = next((r["fields"].get("last_hash", "") for r in records if r["model"] == "accounts.auditchainhead"), "")

    root = Path(settings.MEDIA_ROOT)
    members: dict[str, dict] = {}
    with atomic_file(out) as tmp:  # fsynced, then renamed into place; removed if anything fails
        with tarfile.open(tmp, "w:gz" if out.name.endswith((".gz", ".tgz")) else "w", format=tarfile.PAX_FORMAT) as tar:
            _add(tar, DUMP, dump, members)
            for rel, sha in sorted(evidence.items()):
                path = root / rel
                if not path.is_file():
                    raise BackupError(f"evidence file {rel} is missing from {root}; run `ccinspect verify`")
                if sha256_file(path) != sha:
                    raise BackupError(f"evidence file {rel} does not match its recorded SHA-256; "
                                      "run `ccinspect verify`")
                info = tarfile.TarInfo(EVIDENCE_DIR + rel)
                info.size, info.mode, info.mtime = path.stat().st_size, 0o440, int(path.stat().st_mtime)
                with open(path, "rb") as fh:
                    tar.addfile(info, fh)
                members[info.name] = {"sha256": sha, "size": info.size}
            manifest = {"format": FORMAT, "version": VERSION,
                        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                        "database_vendor": conn.vendor, "migrations": migrations, "counts": counts,
                        "audit_head_hash": head, "members": members}
            tar_manifest = json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(tar_manifest), 0o440, int(dt.datetime.now(dt.UTC).timestamp())
            tar.addfile(info, io.BytesIO(tar_manifest))
    # the head of the trail just backed up goes to the anchor file outside the database, when the trail (and
    # every earlier anchor) verifies; a problem is returned for the command to warn about, not hidden
    from .verify import AnchorError, Report, check_anchors, verify_audit

    anchor = Path(settings.AUDIT_ANCHOR_FILE)
    report = Report()
    try:
        verify_audit(report, using)
        check_anchors(report, anchor, using)
        problems = [p.message for p in report.problems]
    except AnchorError as exc:
        problems = [str(exc)]
    return {"archive": str(out), "records": len(records), "evidence_files": len(evidence),
            "audit_head_hash": head, "counts": counts, "anchor": str(anchor), "anchor_problems": problems}


def _evidence_files(records: list) -> dict[str, str]:
    """stored_path -> sha256 of every evidence record in a dump."""
    out: dict[str, str] = {}
    for r in records:
        if r.get("model") == "inspections.evidence":
            f = r["fields"]
            out[f["stored_path"]] = f["sha256"]
    return out


@dataclass
class Archive:
    """A checked archive: the manifest, the dump's bytes and records, and the evidence members."""

    path: Path
    manifest: dict
    dump: bytes
    records: list
    evidence: dict[str, str]  # stored_path -> sha256


def _safe_member(name: str) -> bool:
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and ".." not in parts and "" not in parts and "\\" not in name


def check_archive(path: Path) -> Archive:
    """Read and check the whole archive; BackupError saying what is wrong, else the checked content."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path}: no such archive")
    try:
        tar = tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"{path}: not a readable tar archive ({exc})") from None
    blobs: dict[str, bytes] = {}  # the manifest and the dump; evidence is hashed as it streams past
    digests: dict[str, tuple[str, int]] = {}
    try:
        with tar:
            for m in tar:
                if not m.isfile() or not _safe_member(m.name):
                    raise BackupError(f"{path}: unexpected member {m.name!r} (only plain files belong here)")
                if m.name in digests:
                    raise BackupError(f"{path}: member {m.name!r} appears twice")
                keep = m.name in (MANIFEST, DUMP)
                digests[m.name] = _stream(tar.extractfile(m), blobs.setdefault(m.name, bytearray()) if keep else None)
    except (tarfile.TarError, OSError, EOFError, ValueError, zlib.error) as exc:
        raise BackupError(f"{path}: the archive is damaged ({exc})") from None
    if MANIFEST not in blobs:
        raise BackupError(f"{path}: no {MANIFEST}; not a ccinspect backup, or damaged")
    try:
        manifest = json.loads(bytes(blobs.pop(MANIFEST)))
        members = manifest["members"]
        assert manifest.get("format") == FORMAT and isinstance(members, dict)
    except (ValueError, KeyError, TypeError, AssertionError):
        raise BackupError(f"{path}: the manifest is damaged or not a ccinspect backup manifest") from None
    if manifest.get("version") != VERSION:
        raise BackupError(f"{path}: backup format version {manifest.get('version')} is not supported")
    problems = []
    for name, meta in sorted(members.items()):
        got = digests.get(name)
        if got is None:
            problems.append(f"{name}: missing")
        elif got != (meta.get("sha256"), meta.get("size")):
            problems.append(f"{name}: SHA-256 {got[0]} ({got[1]} bytes) does not match the manifest's "
                            f"{meta.get('sha256')} ({meta.get('size')} bytes)")
    problems += [f"{name}: not listed in the manifest"
                 for name in sorted(set(digests) - set(members) - {MANIFEST})]
    if problems:
        raise BackupError(f"{path}: the archive is damaged; nothing was changed:\n  " + "\n  ".join(problems))
    if DUMP not in blobs:
        raise BackupError(f"{path}: no {DUMP} in the archive")
    try:
        records = json.loads(bytes(blobs[DUMP]))
        assert isinstance(records, list) and all(isinstance(r, dict) and "model" in r and "fields" in r
                                                 for r in records)
    except (ValueError, AssertionError):
        raise BackupError(f"{path}: the database dump does not parse") from None
    from django.apps import apps

    for label in sorted({r["model"] for r in records}):
        try:
            apps.get_model(label)
        except (LookupError, ValueError):
            raise BackupError(f"{path}: the dump holds {label}, which this version does not know") from None
    _check_manifest(path, manifest, records, digests)
    evidence = _evidence_files(records)
    for rel, sha in sorted(evidence.items()):
        got = digests.get(EVIDENCE_DIR + rel)
        if got is None or got[0] != sha:
            raise BackupError(f"{path}: evidence file {rel} is {'missing' if got is None else 'altered'} "
                              "in the archive")
    _check_migrations(path, manifest.get("migrations") or {})
    return Archive(path=path, manifest=manifest, dump=bytes(blobs[DUMP]), records=records, evidence=evidence)


def _check_manifest(path: Path, manifest: dict, records: list, digests: dict) -> None:
    """What the manifest says against what the archive holds: the row counts of the dump, the audit chain's
    head (the head row and the last entry of the dump), the creation time (not before the dump's newest audit
    entry), the evidence files; a mismatch is refused naming each difference."""
    problems = []
    counts: dict[str, int] = {}
    for r in records:
        counts[r["model"]] = counts.get(r["model"], 0) + 1
    said = manifest.get("counts")
    if not isinstance(said, dict):
        problems.append("counts: missing from the manifest")
    else:
        for label in sorted(set(said) | set(counts)):
            if said.get(label, 0) != counts.get(label, 0):
                problems.append(f"counts: {label}: the manifest says {said.get(label, 0)}, the dump holds "
                                f"{counts.get(label, 0)}")
    heads = [r["fields"].get("last_hash", "") for r in records if r["model"] == "accounts.auditchainhead"]
    events = [r for r in records if r["model"] == "accounts.auditevent"]
    last = max(events, key=lambda r: r["pk"]) if events else None
    dump_head = heads[0] if heads else ""
    if manifest.get("audit_head_hash") != dump_head:
        problems.append(f"audit_head_hash: the manifest says {manifest.get('audit_head_hash')!r}, the dump's chain "
                        f"head is {dump_head!r}")
    if last is not None and last["fields"].get("hash") != dump_head:
        problems.append(f"audit_head_hash: the dump's chain head {dump_head!r} is not its last entry's "
                        f"({last['fields'].get('hash')!r})")
    try:
        created = dt.datetime.fromisoformat(str(manifest.get("created_at")).replace("Z", "+00:00"))
        assert created.tzinfo is not None
    except (ValueError, AssertionError):
        problems.append(f"created_at: {manifest.get('created_at')!r} is not a time with its zone")
    else:
        newest = max((dt.datetime.fromisoformat(r["fields"]["at"].replace("Z", "+00:00")) for r in events),
                     default=None)
        if newest is not None and created < newest.replace(microsecond=0):
            problems.append(f"created_at: {manifest.get('created_at')} is before the dump's newest audit entry "
                            f"({newest.isoformat(timespec='seconds')})")
        elif created > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5):
            problems.append(f"created_at: {manifest.get('created_at')} is in the future")
    evidence = _evidence_files(records)
    listed = {n[len(EVIDENCE_DIR):] for n in (manifest.get("members") or {}) if n.startswith(EVIDENCE_DIR)}
    for rel in sorted(listed - set(evidence)):
        problems.append(f"members: evidence/{rel} is listed but no evidence record in the dump names it")
    if problems:
        raise BackupError(f"{path}: the manifest does not match the archive's contents; nothing was changed:\n  "
                          + "\n  ".join(problems))


def _stream(fh, keep: bytearray | None) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    for chunk in iter(lambda: fh.read(1 << 20), b""):
        h.update(chunk)
        size += len(chunk)
        if keep is not None:
            keep.extend(chunk)
    return h.hexdigest(), size


def _check_migrations(path: Path, wanted: dict) -> None:
    from django.db.migrations.loader import MigrationLoader

    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = [f"{app}.{name}" for app, names in wanted.items() for name in names if (app, name) not in known]
    if unknown:
        raise BackupError(f"{path}: the archive comes from a newer version (unknown migrations: "
                          f"{', '.join(unknown[:5])})")


def _row_counts(using: str) -> dict[str, int]:
    from django.db import connections

    existing = set(connections[using].introspection.table_names())
    out = {}
    for model in _models():
        if model._meta.label_lower in SEEDED or model._meta.db_table not in existing:
            continue
        n = model._base_manager.using(using).count()
        if n:
            out[model._meta.label] = n
    return out


def restore(path: Path, *, force: bool = False, using: str = "default") -> dict:
    """Check the archive, then restore it into an empty database (or, with force, one emptied first)."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections, transaction

    archive = check_archive(path)  # nothing changes before this has passed
    present = _row_counts(using)  # before migrate: a refused restore leaves even the schema as it was
    if present and not force:
        listed = ", ".join(f"{k} {v}" for k, v in sorted(present.items()))
        raise BackupError(f"the database is not empty ({listed}); restore refuses to merge. Use --force to "
                          "empty it first (everything in it is replaced)")
    call_command("migrate", "--noinput", database=using, verbosity=0)
    root = Path(settings.MEDIA_ROOT)
    written = []
    try:
        with tarfile.open(archive.path, "r:*") as tar:
            for rel, sha in archive.evidence.items():
                dest = root / rel
                if dest.is_file() and sha256_file(dest) == sha:
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".restore-")
                try:
                    with os.fdopen(fd, "wb") as out:
                        h = hashlib.sha256()
                        src = tar.extractfile(EVIDENCE_DIR + rel)
                        for chunk in iter(lambda src=src: src.read(1 << 20), b""):
                            h.update(chunk)
                            out.write(chunk)
                    if h.hexdigest() != sha:  # the archive changed since it was checked
                        raise BackupError(f"{archive.path}: evidence file {rel} changed while restoring")
                    os.chmod(tmp, 0o440)
                    os.replace(tmp, dest)
                except BaseException:
                    Path(tmp).unlink(missing_ok=True)
                    raise
                written.append(dest)
        with tempfile.TemporaryDirectory(prefix="ccinspect-restore-") as tmpdir:
            fixture = Path(tmpdir) / "database.json"
            fixture.write_bytes(archive.dump)
            conn = connections[using]
            with transaction.atomic(using=using):
                tables = [m._meta.db_table for m in _models()]
                tables += [m._meta.get_field(f.name).remote_field.through._meta.db_table
                           for m in _models() for f in m._meta.local_many_to_many]
                from django.core.management.color import no_style

                from .readonly import maintenance

                with maintenance():  # the whole database is emptied: the one DELETE the triggers allow
                    conn.ops.execute_sql_flush(conn.ops.sql_flush(no_style(), sorted(set(tables)),
                                                                  reset_sequences=True, allow_cascade=False))
                call_command("loaddata", str(fixture), database=using, verbosity=0)
                from .verify import verify

                report = verify(using)
                if not report.ok:
                    raise BackupError("the restored data does not verify: "
                                      + "; ".join(p.message for p in report.problems[:5]))
    except Exception as exc:  # noqa: BLE001 - whatever failed, the files written go and the transaction is undone
        for dest in written:
            dest.unlink(missing_ok=True)
        if isinstance(exc, BackupError):
            raise
        raise BackupError(f"the restore failed and was rolled back: {exc}") from exc
    return {"archive": str(path), "records": len(archive.records), "evidence_files": len(archive.evidence),
            "audit_entries": report.audit_entries, "audit_head_hash": report.head_hash,
            "replaced": present}
