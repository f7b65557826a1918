"""A small writer of OLE compound files (legacy .doc/.xls: MS-CFB version 3, 512-byte sectors), so the
upload tests use real files whose storages are chosen (macros or none); olefile reads them back.
Every stream is padded to the 4096-byte mini-stream cutoff, so no mini stream is needed."""

from __future__ import annotations

import struct

SECTOR, CUTOFF = 512, 4096
FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
    raw = name.encode("utf-16-le")
    return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw) + 2, kind, 1)
            + struct.pack("<III", NOSTREAM, right, child) + bytes(16 + 4 + 16)
            + struct.pack("<IQ", start, size))


def compound_file(streams: dict[str, bytes]) -> bytes:
    """`streams` maps paths ("WordDocument", "Macros/VBA/dir") to contents; storages are implied."""
    paths = {"": None}
    for path, data in streams.items():
        parts = path.split("/")
        for i in range(1, len(parts)):
            paths.setdefault("/".join(parts[:i]), None)
        paths[path] = data.ljust(CUTOFF, b"\0")
    ids = {p: i for i, p in enumerate(paths)}
    kids: dict[str, list[str]] = {}
    for p in paths:
        if p:
            kids.setdefault(p.rpartition("/")[0], []).append(p)
    n_dir = -(-len(paths) // 4)
    sizes = [-(-len(d) // SECTOR) for d in paths.values() if d is not None]
    n_fat = 1
    while n_fat * 128 < n_fat + n_dir + sum(sizes):
        n_fat += 1
    fat = [FATSECT] * n_fat + [n_fat + i + 1 for i in range(n_dir - 1)] + [END]
    starts, body = {}, b""
    for p, d in paths.items():
        if d is not None:
            starts[p] = len(fat)
            n = -(-len(d) // SECTOR)
            fat += [len(fat) + i + 1 for i in range(n - 1)] + [END]
            body += d.ljust(n * SECTOR, b"\0")
    fat += [FREE] * (n_fat * 128 - len(fat))
    directory = b""
    for p, d in paths.items():
        siblings = sorted(kids.get(p.rpartition("/")[0], []), key=lambda k: (len(k), k.upper())) if p else [p]
        nxt = siblings[siblings.index(p) + 1] if p and siblings.index(p) + 1 < len(siblings) else None
        children = sorted(kids.get(p, []), key=lambda k: (len(k), k.upper()))
        directory += _entry(p.rpartition("/")[2] if p else "Root Entry", 5 if not p else 2 if d is not None else 1,
                            ids[children[0]] if children else NOSTREAM, ids[nxt] if nxt else NOSTREAM,
                            starts.get(p, END), len(d) if d is not None else 0)
    unused = bytes(64) + struct.pack("<HBB", 0, 0, 0) + struct.pack("<III", NOSTREAM, NOSTREAM, NOSTREAM) + bytes(48)
    directory = directory.ljust(n_dir * SECTOR, b"\0")
    directory = b"".join(directory[i:i + 128] if directory[i:i + 128].strip(b"\0") else unused
                         for i in range(0, len(directory), 128))
    difat = list(range(n_fat)) + [FREE] * (109 - n_fat)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + bytes(6) + struct.pack("<IIIIIIIII", 0, n_fat, n_fat, 0, CUTOFF, END, 0, END, 0)
              + struct.pack("<109I", *difat))
    return header + struct.pack(f"<{len(fat)}I", *fat) + directory + body
