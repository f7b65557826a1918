"""Hostile files for the upload and import tests: zip bombs (made in about a second, without inflating them),
nested and crowded archives, disguised executables, active content, raw multipart bodies."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

MIB = 1024 * 1024
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 118 + b"This program cannot be run in DOS mode"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 20


def zip_of(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def _zero_stream(size: int) -> tuple[bytes, int]:
    """A raw deflate stream of `size` zero bytes (size a multiple of 1 MiB) and its CRC-32. After a full
    flush the compressor forgets its window, so every further MiB compresses to the same bytes: the stream is
    one block repeated, built without inflating anything."""
    chunk = bytes(MIB)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    c.compress(chunk)
    c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    n = size // MIB
    crc = 0
    for _ in range(n):
        crc = zlib.crc32(chunk, crc)
    return block * n + c.flush(zlib.Z_FINISH), crc


def bomb(size: int = 1024 * MIB, *, name: str = "zeros.bin", extra: list[tuple[str, bytes]] = (),
         declared: int | None = None) -> bytes:
    """A ZIP whose member `name` inflates to `size` zero bytes (declared as `declared`, default the truth),
    after the small `extra` members (e.g. an XLSX's [Content_Types].xml)."""
    stream, crc = _zero_stream(size)
    out = io.BytesIO()
    central = []
    for n, data in [*extra, (name, None)]:
        if data is None:
            comp, usize, c = stream, declared if declared is not None else size, crc
        else:
            co = zlib.compressobj(9, zlib.DEFLATED, -15)
            comp, usize, c = co.compress(data) + co.flush(), len(data), zlib.crc32(data)
        raw = n.encode()
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, c, len(comp), usize, len(raw), 0))
        out.write(raw + comp)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, c, len(comp), usize,
                                   len(raw), 0, 0, 0, 0, 0, offset) + raw)
    cd_start = out.tell()
    for entry in central:
        out.write(entry)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), out.tell() - cd_start,
                          cd_start, 0))
    return out.getvalue()


CONTENT_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def xlsx_bomb(size: int = 1024 * MIB) -> bytes:
    return bomb(size, name="xl/sharedStrings.xml", extra=[("[Content_Types].xml", CONTENT_TYPES)])


def nested(depth: int, inner: bytes = b"evidence\n") -> bytes:
    data = zip_of([("evidence.txt", inner)])
    for level in range(depth - 1):
        data = zip_of([(f"level{level}.zip", data)], zipfile.ZIP_STORED)
    return data


def crowded(members: int) -> bytes:
    return zip_of([(f"f{i}.txt", b"") for i in range(members)], zipfile.ZIP_STORED)


def encrypted_flag(data: bytes) -> bytes:
    """The same ZIP with every member marked encrypted (general purpose bit 0) in both headers."""
    b = bytearray(data)
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = b.find(sig)
        while i >= 0:
            b[i + off] |= 1
            i = b.find(sig, i + 4)
    return bytes(b)


def pdf_with(names: bytes, compressed: bool = False) -> bytes:
    body = b"<< /Type /Catalog /OpenAction << /S " + names + b" >> >>"
    if compressed:
        z = zlib.compress(body)
        return (b"%PDF-1.7\n1 0 obj << /Type /ObjStm /Filter /FlateDecode /Length " + str(len(z)).encode()
                + b" >>\nstream\n" + z + b"\nendstream\nendobj\ntrailer<<>>\n%%EOF\n")
    return b"%PDF-1.7\n1 0 obj " + body + b" endobj\ntrailer<<>>\n%%EOF\n"


def multipart(fields: dict[str, str], file_field: str, filename: bytes, content: bytes,
              boundary: str = "----ccinspect-boundary-7MA4YWxkTrZu0gW") -> tuple[bytes, str]:
    """A multipart/form-data body with the file name as raw bytes (what a hostile client can send)."""
    b = boundary.encode()
    out = io.BytesIO()
    for k, v in fields.items():
        out.write(b"--" + b + b"\r\n" + f'Content-Disposition: form-data; name="{k}"\r\n\r\n'.encode() + v.encode()
                  + b"\r\n")
    out.write(b"--" + b + b"\r\n" + f'Content-Disposition: form-data; name="{file_field}"; filename="'.encode()
              + filename + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + content + b"\r\n")
    out.write(b"--" + b + b"--\r\n")
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def files_under(root) -> list[Path]:
    root = Path(root)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
