"""Limits for ZIP archives from outside (evidence uploads, XLSX/DOCX workbooks): checked before anything reads
their contents, so a zip bomb is refused instead of inflated.

`check_zip` reads only the central directory first (member count, declared sizes, names, encryption), then,
with `verify=True`, inflates every member in bounded chunks to check its CRC and its real size against the
same budget (a header that under-declares a member's size fails the CRC). Archives inside the archive are
checked the same way, sharing the budget, up to `max_depth` levels.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

MAX_MEMBERS = 10_000
MAX_UNZIPPED = 256 * 1024 * 1024
MAX_DEPTH = 2  # an archive in an archive is checked; a third level is refused
MAX_NESTED = 32 * 1024 * 1024  # an inner archive is held in memory to be checked
CHUNK = 1 << 20
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


class ArchiveError(ValueError):
    """A refused archive. `code` names the reason (for translated messages), `params` its numbers."""

    def __init__(self, code: str, message: str, **params):
        self.code, self.params = code, params
        super().__init__(message)


@dataclass
class Summary:
    members: int = 0
    unzipped: int = 0
    names: tuple[str, ...] = ()


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB"


def _unsafe_name(name: str) -> bool:
    p = PurePosixPath(name.replace("\\", "/"))
    return p.is_absolute() or ".." in p.parts or (len(name) > 1 and name[1] == ":") or "\x00" in name


class _Budget:
    def __init__(self, members: int, unzipped: int):
        self.members_left, self.bytes_left = members, unzipped
        self.max_members, self.max_unzipped = members, unzipped
        self.on_member = None

    def take_members(self, n: int) -> None:
        self.members_left -= n
        if self.members_left < 0:
            raise ArchiveError("too-many-members", f"the archive has more than {self.max_members} members",
                               limit=self.max_members)

    def take_bytes(self, n: int) -> None:
        self.bytes_left -= n
        if self.bytes_left < 0:
            raise ArchiveError("too-large", f"the archive expands to more than {_mib(self.max_unzipped)}",
                               limit=self.max_unzipped)


def check_zip(source, *, max_members: int = MAX_MEMBERS, max_unzipped: int = MAX_UNZIPPED,
              max_depth: int = MAX_DEPTH, verify: bool = True, on_member=None) -> Summary:
    """`source`: bytes, a path or a binary file object. Raises ArchiveError, or returns what was counted.
    `on_member(name, first_bytes)` (with verify) may raise ArchiveError to refuse a member by its content."""
    budget = _Budget(max_members, max_unzipped)
    budget.on_member = on_member
    if isinstance(source, bytes | bytearray | memoryview):
        source = io.BytesIO(source)
    elif isinstance(source, str | os.PathLike):
        with open(source, "rb") as fh:
            return _check(fh, budget, 1, max_depth, verify)
    return _check(source, budget, 1, max_depth, verify)


def _check(fh, budget: _Budget, depth: int, max_depth: int, verify: bool) -> Summary:
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise ArchiveError("corrupt", f"not a readable ZIP archive: {exc}") from None
    with zf:
        infos = zf.infolist()
        budget.take_members(len(infos))
        # the declared sizes first: a bomb is refused before a byte is inflated
        declared = sum(i.file_size for i in infos)
        if declared > budget.bytes_left:
            raise ArchiveError("too-large", f"the archive expands to more than {_mib(budget.max_unzipped)}",
                               limit=budget.max_unzipped)
        for info in infos:
            if _unsafe_name(info.filename):
                raise ArchiveError("unsafe-name", f"the archive member {info.filename!r} points outside the "
                                                  "archive", name=info.filename)
            if info.flag_bits & 0x1:
                raise ArchiveError("encrypted", "the archive is encrypted, so its content cannot be checked")
        if verify:
            for info in infos:
                if not info.is_dir():
                    _inflate(zf, info, budget, depth, max_depth, verify)
        return Summary(members=len(infos), unzipped=declared, names=tuple(i.filename for i in infos))


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget, depth: int, max_depth: int,
             verify: bool) -> None:
    nested: bytearray | None = None
    try:
        with zf.open(info) as member:
            first = True
            while True:
                chunk = member.read(CHUNK)
                if first and budget.on_member is not None:
                    budget.on_member(info.filename, chunk[:64])
                if not chunk:
                    break
                budget.take_bytes(len(chunk))
                if first and chunk[:4] in ZIP_MAGIC:
                    if depth >= max_depth:
                        raise ArchiveError("nested", f"archives nested more than {max_depth} levels deep are "
                                                     "not accepted", limit=max_depth)
                    nested = bytearray()
                first = False
                if nested is not None:
                    nested += chunk
                    if len(nested) > MAX_NESTED:
                        raise ArchiveError("too-large", f"the archive {info.filename!r} inside it is larger "
                                                        f"than {_mib(MAX_NESTED)}", limit=MAX_NESTED)
    except ArchiveError:
        raise
    except Exception as exc:  # BadZipFile (CRC), zlib/lzma/bz2 errors, unsupported methods: a damaged member
        raise ArchiveError("corrupt", f"the archive member {info.filename!r} is damaged: {exc}") from None
    if nested is not None:
        # the nested archive's own inflation is charged to the same budget
        _check(io.BytesIO(bytes(nested)), budget, depth + 1, max_depth, verify)


def is_zip(head: bytes) -> bool:
    return head[:4] in ZIP_MAGIC
