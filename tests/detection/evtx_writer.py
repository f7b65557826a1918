"""A minimal EVTX writer for tests, built to the published format (libyal's EVTX documentation).

One chunk; each record's binary XML is a template instance with a resident template holding
elements, attributes and UTF-16 string values (Windows puts typed values in substitutions; literal
values are also valid binary XML), with the CRC32 checksums of the file header, chunk header and
record data. python-evtx's own `verify()` checks the result in the tests.
"""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime

FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)


def _filetime(dt: datetime) -> int:
    return int((dt - FILETIME_EPOCH).total_seconds() * 10_000_000)


class _BinXml:
    """Binary XML of one record; `base` is the chunk offset where this buffer starts."""

    def __init__(self, base: int):
        self.base = base
        self.buf = bytearray()

    def _name(self) -> int:
        return self.base + len(self.buf)

    def _put_name(self, name: str) -> None:
        # Inline name string: next offset, hash, length in characters, UTF-16LE, NUL.
        self.buf += struct.pack("<IHH", 0, 0, len(name)) + name.encode("utf-16-le") + b"\x00\x00"

    def _value(self, text: str) -> None:
        # Value token 0x05, type 0x01 (UTF-16 string): length in characters, then characters.
        self.buf += bytes([0x05, 0x01]) + struct.pack("<H", len(text)) + text.encode("utf-16-le")

    def element(self, name: str, attrs: dict[str, str] | None = None, text: str | None = None, children=()) -> None:
        start = len(self.buf)
        token = 0x41 if attrs else 0x01
        self.buf += bytes([token]) + struct.pack("<H", 0xFFFF) + b"\x00\x00\x00\x00"  # size patched below
        name_at = self._name() + 4 + (4 if attrs else 0)
        self.buf += struct.pack("<I", name_at)
        if attrs:
            attr_size_at = len(self.buf)
            self.buf += b"\x00\x00\x00\x00"
        self._put_name(name)
        if attrs:
            a0 = len(self.buf)
            items = list(attrs.items())
            for i, (k, v) in enumerate(items):
                self.buf += bytes([0x46 if i < len(items) - 1 else 0x06])
                self.buf += struct.pack("<I", self._name() + 4)
                self._put_name(k)
                self._value(v)
            struct.pack_into("<I", self.buf, attr_size_at, len(self.buf) - a0)
        if text is None and not children:
            self.buf += b"\x03"  # close empty element
        else:
            self.buf += b"\x02"  # close start element
            if text is not None:
                self._value(text)
            for child in children:
                self.element(*child)
            self.buf += b"\x04"  # close element
        struct.pack_into("<I", self.buf, start + 3, len(self.buf) - start - 7)


def _record(num: int, when: datetime, base: int, event: tuple) -> bytes:
    """One record at chunk offset `base`: fragment header, a template instance whose (resident)
    template holds the event with literal values, and an empty substitution array."""
    root = base + 0x18
    tmpl_at = root + 4 + 10
    x = _BinXml(tmpl_at + 0x18)
    x.buf += bytes([0x0F, 0x01, 0x01, 0x00])
    x.element(*event)
    x.buf += b"\x00"  # end of stream
    data = bytes(x.buf)
    guid = struct.pack("<I", num) + b"ccinspect-t1"  # template id is the GUID's first 4 bytes
    body = (
        bytes([0x0F, 0x01, 0x01, 0x00])
        + bytes([0x0C, 0x01]) + struct.pack("<II", num, tmpl_at)
        + struct.pack("<I", 0) + guid + struct.pack("<I", len(data)) + data
        + struct.pack("<I", 0)  # no substitutions
    )
    size = 0x18 + len(body) + 4
    size += (-size) % 8  # records are 8-byte aligned
    rec = struct.pack("<IIQQ", 0x00002A2A, size, num, _filetime(when)) + body
    rec += b"\x00" * (size - 4 - len(rec))
    return rec + struct.pack("<I", size)


def logon_event(event_id: int, when: datetime, record: int, data: dict[str, str]) -> tuple:
    """The (name, attrs, text, children) tree of a Security 4624/4625 event."""
    ts = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
    system = [
        ("Provider", {"Name": "Microsoft-Windows-Security-Auditing", "Guid": "{54849625-5478-4994-a5ba-3e3b0328c30d}"}),
        ("EventID", None, str(event_id)),
        ("Version", None, "0"),
        ("Level", None, "0"),
        ("Task", None, "12544"),
        ("Keywords", None, "0x8010000000000000" if event_id == 4625 else "0x8020000000000000"),
        ("TimeCreated", {"SystemTime": ts}),
        ("EventRecordID", None, str(record)),
        ("Channel", None, "Security"),
        ("Computer", None, "CORE-AD01.broker.local"),
    ]
    event_data = [("Data", {"Name": k}, v) for k, v in data.items()]
    return ("Event", {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"}, None,
            [("System", None, None, system), ("EventData", None, None, event_data)])


def write_evtx(path, events: list[tuple[int, datetime, dict[str, str]]]) -> None:
    """Write (event id, time, EventData) events as one-chunk EVTX."""
    records = bytearray()
    last = 0x200
    for i, (eid, when, data) in enumerate(events, 1):
        last = 0x200 + len(records)
        records += _record(i, when, last, logon_event(eid, when, i, data))
    n = len(events)
    free = 0x200 + len(records)
    if free > 0x10000:
        raise ValueError("too many events for one chunk")
    chunk = bytearray(0x10000)
    struct.pack_into("<8sQQQQIII", chunk, 0, b"ElfChnk\x00", 1, n, 1, n, 0x80, last, free)
    chunk[0x200:free] = records
    struct.pack_into("<I", chunk, 0x34, zlib.crc32(bytes(records)))
    struct.pack_into("<I", chunk, 0x7C, zlib.crc32(bytes(chunk[:0x78]) + bytes(chunk[0x80:0x200])))
    header = bytearray(0x1000)
    struct.pack_into("<8sQQQIHHHH", header, 0, b"ElfFile\x00", 0, 0, n + 1, 0x80, 1, 3, 0x1000, 1)
    struct.pack_into("<I", header, 0x78, 0)  # flags: clean
    struct.pack_into("<I", header, 0x7C, zlib.crc32(bytes(header[:0x78])))
    with open(path, "wb") as f:
        f.write(header + chunk)
