"""Evidence files: size and type limits (type judged by content), safe names, SHA-256, content-addressed
read-only storage under MEDIA_ROOT. A record is never altered; a new version is a new record.

Accepted: PDF (without JavaScript or launch actions), PNG, JPEG, GIF, ZIP and Office/OpenDocument files
(checked as archives: member count, expanded size, nesting, no macros or executables), OLE (legacy Office,
without VBA macro storages), EVTX, and text (UTF-8, UTF-16 or CP950/Big5, as core.textfile reads it) that is
not an HTML/SVG/XSLT document. Everything else is refused with a message saying
why, and nothing is stored.

Crash safety: a file is written to a temporary name in its final directory, fsynced, renamed into place
(content-addressed, so the rename is the only step that makes it visible) and the directory fsynced; only
then is the record inserted. A crash between the rename and the commit leaves a file no record names: an
orphan, which `ccinspect verify` reports and `ccinspect verify --sweep-orphans` removes (after a grace period,
so a write in flight is never touched). Imports write their files after all their rows, just before the
commit (`deferred_writes`), so a crash during the import's work leaves no file at all.
"""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import hashlib
import io
import os
import re
import tempfile
import unicodedata
import zlib
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ccinspect import safezip
from ccinspect.core.textfile import detect_encoding
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
ALLOWED_DESCRIPTION = gettext_lazy("PDF, PNG, JPEG, GIF, ZIP/Office, EVTX, plain text (txt, log, csv, json, xml, "
                                   "yaml…)")
OOXML = {".docx", ".xlsx", ".pptx"}
ODF = {".odt", ".ods"}
EXECUTABLE_HEADS = (b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"#!")
EXECUTABLE_NAMES = {".exe", ".dll", ".com", ".scr", ".msi", ".bat", ".cmd", ".ps1", ".vbs", ".vbe", ".js", ".jse",
                    ".wsf", ".hta", ".jar", ".lnk", ".sh", ".cpl", ".sys", ".pif"}
# a document whose root is one of these is rendered, and its scripts run, by a browser that opens it
_MARKUP = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?xml\b[^>]*\?>\s*)?(?:<!--.*?-->\s*)*"
    rb"(?:<!doctype\s+(?:html|svg)\b|<(?:[a-z0-9_.-]+:)?(?:html|svg|script|body|head|iframe|object|embed|math|"
    rb"stylesheet|transform)\b)", re.I | re.S)
_XSLT_PI = re.compile(rb"<\?xml-stylesheet\b", re.I)
# PDF names that run something: scripts, launching programs, embedded players
_PDF_ACTIVE = {b"JavaScript", b"JS", b"Launch", b"RichMedia"}
_PDF_NAME = re.compile(rb"/([^\s()<>\[\]{}/%]+)")
_PDF_STREAM = re.compile(rb"stream\r?\n")


def _too_large(limit: int | None = None) -> UploadError:
    limit = settings.EVIDENCE_MAX_BYTES if limit is None else limit
    return UploadError(_("the file is larger than the limit of %(mb)s MB") % {"mb": f"{limit / (1024 * 1024):g}"})


def sniff(head: bytes) -> str | None:
    """The content family of a file from its first bytes, or None for anything not accepted
    (executables, scripts in binary wrappers, unknown binaries). "markup" is text a browser would run."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if safezip.is_zip(head):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith(b"ElfFile\x00"):
        return "evtx"
    if head.startswith(EXECUTABLE_HEADS):
        return None
    # Text in UTF-8 (±BOM), UTF-16 (±BOM) or CP950, as core.textfile reads it: a Big5 CSV from Excel on
    # Chinese Windows, or a UTF-16 export from PowerShell, is evidence like any other text.
    try:
        encoding = detect_encoding(head)[0]
    except ValueError:
        return None  # NUL bytes and not UTF-16: binary
    try:
        text = codecs.getincrementaldecoder(encoding)("strict").decode(head, final=False)
    except UnicodeDecodeError:
        return None
    utf8 = text.encode("utf-8")
    if _MARKUP.match(utf8) or _XSLT_PI.search(utf8[:4096]):
        return "markup"
    return "text"


def safe_name(name: str) -> str:
    """The file's own name only: no directories, no control or bidi-override characters, no leading dots,
    at most 200 characters (the extension kept when it is short)."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.encode("utf-8", "replace").decode("utf-8")  # lone surrogates cannot be stored
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = re.sub(r"^[\s.]+", "", re.sub(r"\s+", " ", name)).strip()
    if len(name) > 200:
        stem, ext = os.path.splitext(name)
        if len(ext) > 20:
            stem, ext = name, ""
        name = stem[: 200 - len(ext)].rstrip() + ext
    return name or "evidence"


def read_upload(fileobj, max_bytes: int | None = None) -> bytes:
    """The upload's bytes, refusing one over the limit before reading it when its size is known."""
    limit = settings.EVIDENCE_MAX_BYTES if max_bytes is None else max_bytes
    size = getattr(fileobj, "size", None)
    if isinstance(size, int) and size > limit:
        raise _too_large(limit)
    chunks, total = [], 0
    reader = fileobj.chunks() if hasattr(fileobj, "chunks") else iter(lambda: fileobj.read(1 << 16), b"")
    for chunk in reader:
        total += len(chunk)
        if total > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def archive_limits() -> dict:
    return {"max_members": getattr(settings, "EVIDENCE_ZIP_MAX_MEMBERS", safezip.MAX_MEMBERS),
            "max_unzipped": getattr(settings, "EVIDENCE_ZIP_MAX_UNZIPPED_BYTES", safezip.MAX_UNZIPPED)}


def archive_message(name: str, exc: safezip.ArchiveError) -> str:
    p = {"name": name, **exc.params}
    if exc.code == "too-many-members":
        return _("%(name)s: the archive has more than %(limit)s members") % p
    if exc.code == "too-large":
        return _("%(name)s: the archive expands to more than %(mb)s MB (a zip bomb?)") % (
            p | {"mb": f"{exc.params.get('limit', 0) / (1024 * 1024):g}"})
    if exc.code == "nested":
        return _("%(name)s: archives nested more than %(limit)s levels deep are not accepted") % p
    if exc.code == "encrypted":
        return _("%(name)s: the archive is encrypted, so its content cannot be checked") % p
    if exc.code == "unsafe-name":
        return _("%(name)s: the archive member %(member)s points outside the archive") % (
            p | {"member": exc.params.get("name", "")})
    if exc.code == "executable":
        return _("%(name)s: the archive contains an executable or a script (%(member)s)") % (
            p | {"member": exc.params.get("name", "")})
    return _("%(name)s: the archive is damaged or not a ZIP archive") % p


def _member_check(member: str, head: bytes) -> None:
    base = member.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if head.startswith(EXECUTABLE_HEADS[:5]) or os.path.splitext(base)[1] in EXECUTABLE_NAMES \
            or base == "vbaproject.bin" or member.lower().startswith(("basic/", "scripts/")):
        raise safezip.ArchiveError("executable", f"the archive contains an executable or script ({member})",
                                   name=member)


def check_archive(clean: str, data: bytes, ext: str = "") -> safezip.Summary:
    """A ZIP (or Office/OpenDocument) file within the limits: UploadError otherwise."""
    try:
        summary = safezip.check_zip(data, on_member=_member_check, **archive_limits())
    except safezip.ArchiveError as exc:
        raise UploadError(archive_message(clean, exc)) from None
    names = set(summary.names)
    part = "[Content_Types].xml" if ext in OOXML else "mimetype" if ext in ODF else None
    if part and part not in names:
        raise UploadError(_("%(name)s is named %(ext)s but is not an Office document (it has no %(part)s)")
                          % {"name": clean, "ext": ext, "part": part})
    return summary


# Storages that hold VBA macros in legacy Office files: Word's Macros (and its VBA), Excel's
# _VBA_PROJECT_CUR, and _VBA_PROJECT in other hosts. Not seen by this check: PowerPoint 97's VBA, kept
# compressed inside its document stream, and Excel 4.0 macro sheets, which are records of the workbook.
_OLE_MACRO_STORAGES = {"macros", "vba", "_vba_project_cur", "_vba_project"}


def _ole_macros(clean: str, data: bytes) -> str | None:
    """The path of the first VBA macro storage of a legacy Office file (None without one); UploadError when
    olefile cannot read the file's directory, since then nothing inside it can be checked."""
    import olefile  # noqa: PLC0415 - only uploads of legacy Office files need it

    try:
        # A file object, not the bytes: olefile takes bytes shorter than 1536 for a file name.
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            entries = ole.listdir(streams=False, storages=True)
    except Exception:  # noqa: BLE001 - olefile raises many kinds for a damaged file
        raise UploadError(_("%(name)s is damaged: its OLE (legacy Office) structure cannot be read")
                          % {"name": repr(clean)}) from None
    for path in entries:
        if path[-1].lower() in _OLE_MACRO_STORAGES:
            return "/".join(path)
    return None


def _pdf_active(data: bytes) -> str | None:
    """The first active-content name in the PDF's objects: in the text between streams, and inside object
    streams (/Type /ObjStm, inflated within a budget). Other streams (images, fonts, page content) are
    binary or drawing operators, where the same bytes mean nothing, so they are not scanned."""
    def scan(buf) -> str | None:
        for m in _PDF_NAME.finditer(buf):
            raw = m.group(1)
            if b"#" in raw:
                raw = re.sub(rb"#([0-9A-Fa-f]{2})", lambda h: bytes([int(h.group(1), 16)]), raw)
            if raw in _PDF_ACTIVE:
                return raw.decode("latin-1")
        return None

    budget, pos, view = 64 * 1024 * 1024, 0, memoryview(data)
    while True:
        m = _PDF_STREAM.search(data, pos)
        head = data[pos: m.start() if m else len(data)]
        found = scan(head)
        if found or m is None:
            return found
        end = data.find(b"endstream", m.end())
        end = len(data) if end < 0 else end
        if b"/ObjStm" in head[head.rfind(b"obj"):] and budget > 0:
            try:
                out = zlib.decompressobj().decompress(view[m.end(): end], budget)
            except zlib.error:
                out = b""
            budget -= len(out)
            found = scan(out)
            if found:
                return found
        pos = end + len(b"endstream")


def classify(name: str, data: bytes) -> tuple[str, str]:
    """(safe name, MIME type) or UploadError."""
    clean = safe_name(name)
    if not data:
        raise UploadError(_("the file is empty"))
    if len(data) > settings.EVIDENCE_MAX_BYTES:
        raise _too_large()
    family = sniff(data[:8192])
    if family == "markup":
        raise UploadError(_("%(name)s is an HTML, SVG or XSLT document; active content is not accepted as "
                            "evidence (export it as PDF or plain text)") % {"name": repr(clean)})
    if family is None:
        raise UploadError(_("the content of %(name)s is not an accepted evidence type (%(allowed)s)")
                          % {"name": repr(clean), "allowed": ALLOWED_DESCRIPTION})
    ext = os.path.splitext(clean)[1].lower()
    expected = EXT_FAMILY.get(ext)
    if ext and expected is None:
        raise UploadError(_("files named %(ext)s are not accepted (%(allowed)s)")
                          % {"ext": ext, "allowed": ALLOWED_DESCRIPTION})
    if ext and expected != family:
        raise UploadError(_("%(name)s is named %(ext)s but its content is %(actual)s, not %(expected)s")
                          % {"name": repr(clean), "ext": ext, "actual": FAMILIES[family][0],
                             "expected": FAMILIES[expected][0]})
    if family == "zip":
        check_archive(clean, data, ext)
    if family == "ole":
        macros = _ole_macros(clean, data)
        if macros:
            raise UploadError(_("%(name)s contains macros (%(what)s), which are not accepted as evidence (save "
                                "it without macros, or as PDF)") % {"name": repr(clean), "what": macros})
    if family == "pdf":
        active = _pdf_active(data)
        if active:
            raise UploadError(_("%(name)s contains active content (/%(what)s), which is not accepted as "
                                "evidence") % {"name": repr(clean), "what": active})
    return clean, FAMILIES[family][0]


# ---- the store --------------------------------------------------------------------------------------------

def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be opened
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _sync_filesystem(path: Path) -> None:
    """Flush what was written to the filesystem holding `path`: one journal commit for a batch of files
    instead of one fsync each (Linux syncfs; os.sync elsewhere)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if _SYNCFS is not None and _SYNCFS(fd) == 0:
            return
        os.sync()
    finally:
        os.close(fd)


def _libc_syncfs():
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None


_SYNCFS = _libc_syncfs()


def _stage(sha: str, data: bytes, *, sync: bool = True) -> tuple[str, Path | None]:
    """The content in a temporary file beside its final name (relative path, temporary path), or (path, None)
    when the store already holds it (then touched, so an orphan sweep running now leaves it alone)."""
    rel = f"{sha[:2]}/{sha}"
    dest = Path(settings.MEDIA_ROOT) / rel
    if dest.exists():
        with contextlib.suppress(OSError):
            os.utime(dest)
        return rel, None
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o440)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return rel, Path(tmp)


def _publish(rel: str, tmp: Path) -> int:
    """The atomic step: the temporary file takes its content-addressed name. Its mtime_ns, for _discard."""
    dest = Path(settings.MEDIA_ROOT) / rel
    os.replace(tmp, dest)
    return dest.stat().st_mtime_ns


def _write(sha: str, data: bytes) -> tuple[str, int | None]:
    """Write one content-addressed file durably; (relative path, its mtime_ns if this call created it)."""
    rel, tmp = _stage(sha, data)
    if tmp is None:
        return rel, None
    try:
        mtime = _publish(rel, tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(tmp.parent)
    return rel, mtime


def _discard(rel: str, mtime_ns: int | None) -> None:
    """Remove a file this request created for a record that was not committed, unless another writer has
    since touched it (it stored the same content and its record may be on the way)."""
    if mtime_ns is None:
        return
    p = Path(settings.MEDIA_ROOT) / rel
    with contextlib.suppress(OSError):
        if p.stat().st_mtime_ns == mtime_ns:
            p.unlink()


_pending: contextvars.ContextVar[list | None] = contextvars.ContextVar("ccinspect_evidence_pending", default=None)


@contextlib.contextmanager
def deferred_writes():
    """Inside a transaction: store() inserts its records at once but writes their files only when the block
    ends without error (still inside the transaction, just before its commit). A crash during the block
    leaves neither records nor files; if a write fails, the files already written are removed. (A crash or
    a failed commit after the writes leaves orphans for `ccinspect verify --sweep-orphans`.)"""
    pending: list[tuple[str, bytes]] = []
    token = _pending.set(pending)
    staged: list[tuple[str, Path]] = []
    written: list[tuple[str, int | None]] = []
    try:
        yield
        _pending.reset(token)
        token = None
        seen = set()
        for sha, data in pending:
            if sha not in seen:
                seen.add(sha)
                rel, tmp = _stage(sha, data, sync=False)
                if tmp is not None:
                    staged.append((rel, tmp))
        if staged:  # contents durable, then names: two flushes for the whole batch
            root = Path(settings.MEDIA_ROOT)
            _sync_filesystem(root)
            while staged:
                rel, tmp = staged.pop()
                written.append((rel, _publish(rel, tmp)))
            _sync_filesystem(root)
    except BaseException:
        if token is not None:
            _pending.reset(token)
        for _rel, tmp in staged:
            tmp.unlink(missing_ok=True)
        for rel, mtime in written:
            _discard(rel, mtime)
        raise


def path_of(ev: Evidence) -> Path:
    root = Path(settings.MEDIA_ROOT).resolve()
    p = (root / ev.stored_path).resolve()
    if root not in p.parents:
        raise UploadError("evidence path escapes the store")
    return p


def clean_text(value: str) -> str:
    """Free text for the database: NUL cannot be stored in PostgreSQL text, nor lone surrogates in UTF-8."""
    return str(value or "").replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def store(*, organisation: Organisation, uploaded_by, name: str, data: bytes, kind: str = Evidence.UPLOAD,
          inspection=None, item=None, finding=None, note: str = "", supersedes: Evidence | None = None,
          metadata: dict | None = None, content_type: str | None = None) -> Evidence:
    clean, mime = classify(name, data)
    sha = hashlib.sha256(data).hexdigest()
    pending = _pending.get()
    if pending is not None:
        pending.append((sha, data))
        rel, created = f"{sha[:2]}/{sha}", None
    else:
        rel, created = _write(sha, data)
    try:
        with transaction.atomic():
            return Evidence.objects.create(
                organisation=organisation, inspection=inspection, item=item, finding=finding, kind=kind,
                original_name=clean, stored_path=rel, sha256=sha, size=len(data),
                content_type=content_type or mime, uploaded_by=uploaded_by, note=clean_text(note),
                supersedes=supersedes, metadata=metadata or {})
    except BaseException:
        _discard(rel, created)  # nothing half-written: the file goes with the failed record
        raise
