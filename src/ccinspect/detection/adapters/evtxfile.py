"""EVTX files: records through the Rust-based `evtx` parser, and what the file promised.

The parser was chosen by measurement (docs/logins.md, bench/evtx.py): on the public corpus it read
every record python-evtx read and more, lost fewer, and ran several hundred times faster.
Neither parser says how much of a damaged file it skipped (the Rust one reads a truncated file
partly and reports nothing), so the file's own structure is read first: each chunk header gives
the range of record numbers the chunk holds, the file header the number of chunks. Records
promised and not delivered are "lost" and make the file partial.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

FILE_MAGIC = b"ElfFile\x00"
CHUNK_MAGIC = b"ElfChnk\x00"
HEADER_SIZE = 0x1000
CHUNK_SIZE = 0x10000
MAX_ERRORS = 10_000  # a file this broken is garbage; stop asking the parser

# The System element comes first in the parser's JSON, so the first "EventID" is the event's own
# (a value inside EventData would have its quotes escaped and cannot match).
_EVENT_ID = re.compile(r'"EventID":(?:\{"#attributes":\{[^}]*\},"#text":)?(\d+)')


@dataclass
class Structure:
    """What the file's headers promise."""

    size: int
    header_chunks: int           # chunk count in the file header
    chunks: int = 0              # chunks with a valid header found in the file
    bad_chunks: int = 0          # chunk slots whose header is not a chunk header (zeroed, overwritten)
    promised: int = 0            # records the valid chunk headers announce
    truncated_at: int | None = None   # byte where a truncated file ends inside a chunk
    missing_chunks: int = 0      # chunks the file header counts but the file is too short to hold
    bad_header: bool = False     # the file header is not an EVTX header (damaged, or not EVTX at all)

    @property
    def estimated_missing(self) -> int:
        """Records of the chunks lost to truncation, at the mean of the chunks present (an estimate)."""
        if not self.missing_chunks or not self.chunks:
            return 0
        return round(self.missing_chunks * self.promised / self.chunks)


def structure(path: Path) -> Structure:
    """Read the file and chunk headers (64 KiB steps), never the records. Never raises on content."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(HEADER_SIZE)
        if len(head) < 0x30:  # the file header itself is cut short
            return Structure(size=size, header_chunks=0, truncated_at=size, bad_header=not head.startswith(FILE_MAGIC))
        st = Structure(size=size, header_chunks=struct.unpack_from("<H", head, 0x2A)[0])
        if not head.startswith(FILE_MAGIC):  # damaged header: the chunks may still be there
            st.bad_header, st.header_chunks = True, 0
        off = HEADER_SIZE
        while off < size:
            f.seek(off)
            ch = f.read(0x30)
            if ch[:8] == CHUNK_MAGIC and len(ch) >= 0x28:
                first, last = struct.unpack_from("<QQ", ch, 0x08)
                st.chunks += 1
                if last >= first:
                    st.promised += last - first + 1
            elif ch.strip(b"\x00"):
                st.bad_chunks += 1
            off += CHUNK_SIZE
        body = max(0, size - HEADER_SIZE)
        whole = body // CHUNK_SIZE
        if body % CHUNK_SIZE or whole < st.header_chunks:
            st.truncated_at = size
            st.missing_chunks = max(0, st.header_chunks - whole - (1 if body % CHUNK_SIZE else 0))
    return st


@dataclass
class EvtxRead:
    """Accounting of one EVTX read: records delivered, parser errors, what was lost."""

    structure: Structure
    records: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return max(0, self.structure.promised - self.records) + self.structure.estimated_missing

    def damage(self) -> list[tuple[str, int]]:
        """(reason, records lost) for each kind of damage found; empty for a sound file."""
        st, out = self.structure, []
        short = max(0, st.promised - self.records)
        if st.bad_header:
            out.append(("the file header is not an EVTX header (damaged, or not an EVTX file)",
                        0 if (short or self.records) else 1))
        cut = ""
        if st.truncated_at is not None:
            est = st.estimated_missing
            part = "the last chunk is incomplete" if (st.size - HEADER_SIZE) % CHUNK_SIZE else "chunks are missing"
            more = f", {st.missing_chunks} chunk(s) missing (about {est:,} records)" if st.missing_chunks else ""
            cut = f"file truncated at byte {st.truncated_at:,}: {part}{more}"
            if est or not short:
                # nothing to estimate from (no chunk left): still at least one record lost
                out.append((cut, est if (est or st.chunks) else 1))
                cut = ""
        if short:
            detail = "; ".join(self.errors[:3])
            out.append(((f"{cut}; " if cut else "")
                        + f"{short:,} of {st.promised:,} records the chunk headers announce could not be read"
                        + (f" ({detail})" if detail else ""), short))
        elif self.errors:
            out.append(("parser errors: " + "; ".join(self.errors[:3]), 0))
        if st.bad_chunks:
            out.append((f"{st.bad_chunks} chunk(s) with a damaged header skipped (their records are not counted above)", 0))
        return out


def records(path: Path, read: EvtxRead, wanted: frozenset[int] | None = None) -> Iterator[tuple[int, int, str | None]]:
    """(event id, record id, JSON text or None when the event id is not wanted) for every record."""
    from evtx import PyEvtxParser  # noqa: PLC0415 - only EVTX inputs pay for it

    try:
        it = PyEvtxParser(str(path)).records_json()
    except (OSError, RuntimeError) as exc:  # the parser refuses the file: everything promised is lost
        read.errors.append(_first_line(exc))
        return
    while True:
        try:
            rec = next(it)
        except StopIteration:
            return
        except RuntimeError as exc:  # one damaged record or chunk; the parser goes on after it
            read.errors.append(_first_line(exc))
            if len(read.errors) > MAX_ERRORS:
                return
            continue
        data = rec["data"]
        m = _EVENT_ID.search(data)
        eid = int(m.group(1)) if m else -1
        read.records += 1
        yield eid, rec["event_record_id"], (data if wanted is None or eid in wanted else None)


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
