"""Evidence files: size and type limits (type judged by content), safe names, SHA-256, content-addressed
read-only storage under MEDIA_ROOT. A record is never altered; a new version is a new record."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path

from django.conf import settings
from django.db import transaction

from ccinspect.web.accounts.models import Organisation

from .models import Evidence


class UploadError(ValueError):
    """A rejected file: the message says why, in words a user can act on."""


# content family -> (MIME type, accepted extensions)
FAMILIES = {
    "pdf": ("application/pdf", {".pdf"}),
    "png": ("image/png", {".png"}),
    "jpeg": ("image/jpeg", {".jpg", ".jpeg"}),
    "gif": ("image/gif", {".gif"}),
    "zip": ("application/zip", {".zip", ".docx", ".xlsx", ".pptx", ".odt", ".ods"}),
    "ole": ("application/x-ole-storage", {".doc", ".xls", ".ppt", ".msg"}),
    "evtx": ("application/x-evtx", {".evtx"}),
    "text": ("text/plain", {".txt", ".log", ".csv", ".json", ".xml", ".yaml", ".yml", ".md", ".conf",
                            ".cfg", ".ini", ".jsonl", ".ndjson", ".tsv", ".rules", ""}),
}
EXT_FAMILY = {ext: fam for fam, (_mime, exts) in FAMILIES.items() for ext in exts if ext}
ALLOWED_DESCRIPTION = "PDF, PNG, JPEG, GIF, ZIP/Office, EVTX, plain text (txt, log, csv, json, xml, yaml…)"


def sniff(head: bytes) -> str | None:
    """The content family of a file from its first bytes, or None for anything not accepted
    (executables, scripts in binary wrappers, unknown binaries)."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith(b"ElfFile\x00"):
        return "evtx"
    if head.startswith((b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"#!")):
        return None
    if b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a multi-byte character cut at the end of the sample
            return None
    return "text"


def safe_name(name: str) -> str:
    """The file's own name only: no directories, no control characters, no leading dots."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip().lstrip(".").strip()
    if len(name) > 200:
        stem, ext = os.path.splitext(name)
        name = stem[: 200 - len(ext)] + ext
    return name or "evidence"


def read_upload(fileobj, max_bytes: int | None = None) -> bytes:
    limit = settings.EVIDENCE_MAX_BYTES if max_bytes is None else max_bytes
    chunks, total = [], 0
    reader = fileobj.chunks() if hasattr(fileobj, "chunks") else iter(lambda: fileobj.read(1 << 16), b"")
    for chunk in reader:
        total += len(chunk)
        if total > limit:
            raise UploadError(f"the file is larger than the limit of {limit // (1024 * 1024)} MB")
        chunks.append(chunk)
    return b"".join(chunks)


def classify(name: str, data: bytes) -> tuple[str, str]:
    """(safe name, MIME type) or UploadError."""
    clean = safe_name(name)
    if not data:
        raise UploadError("the file is empty")
    if len(data) > settings.EVIDENCE_MAX_BYTES:
        raise UploadError(f"the file is larger than the limit of {settings.EVIDENCE_MAX_BYTES // (1024 * 1024)} MB")
    family = sniff(data[:8192])
    if family is None:
        raise UploadError(f"the content of {clean!r} is not an accepted evidence type ({ALLOWED_DESCRIPTION})")
    ext = os.path.splitext(clean)[1].lower()
    expected = EXT_FAMILY.get(ext)
    if ext and expected is None:
        raise UploadError(f"files named {ext} are not accepted ({ALLOWED_DESCRIPTION})")
    if ext and expected != family:
        raise UploadError(f"{clean!r} is named {ext} but its content is {FAMILIES[family][0]}, not "
                          f"{FAMILIES[expected][0]}")
    return clean, FAMILIES[family][0]


def _write(sha: str, data: bytes) -> tuple[str, bool]:
    rel = f"{sha[:2]}/{sha}"
    root = Path(settings.MEDIA_ROOT)
    dest = root / rel
    if dest.exists():
        return rel, False
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o440)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return rel, True


def path_of(ev: Evidence) -> Path:
    root = Path(settings.MEDIA_ROOT).resolve()
    p = (root / ev.stored_path).resolve()
    if root not in p.parents:
        raise UploadError("evidence path escapes the store")
    return p


def store(*, organisation: Organisation, uploaded_by, name: str, data: bytes, kind: str = Evidence.UPLOAD,
          inspection=None, item=None, finding=None, note: str = "", supersedes: Evidence | None = None,
          metadata: dict | None = None, content_type: str | None = None) -> Evidence:
    clean, mime = classify(name, data)
    sha = hashlib.sha256(data).hexdigest()
    rel, created = _write(sha, data)
    try:
        with transaction.atomic():
            return Evidence.objects.create(
                organisation=organisation, inspection=inspection, item=item, finding=finding, kind=kind,
                original_name=clean, stored_path=rel, sha256=sha, size=len(data),
                content_type=content_type or mime, uploaded_by=uploaded_by, note=note, supersedes=supersedes,
                metadata=metadata or {})
    except BaseException:
        if created:  # nothing half-written: the file goes with the failed record
            p = Path(settings.MEDIA_ROOT) / rel
            p.unlink(missing_ok=True)
        raise
