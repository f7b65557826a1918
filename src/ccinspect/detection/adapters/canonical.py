"""Canonical CSV: scanned by DuckDB in place; only the header is checked here."""

from __future__ import annotations

import csv
from pathlib import Path

from . import CANONICAL, REQUIRED, InputError, Source, is_gzip, open_text


def csv_source(path: Path) -> Source:
    with open_text(path) as f:
        first = f.readline()
    header = [c.strip() for c in next(csv.reader([first]), [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(f"{path}: line 1: header lacks column(s) {', '.join(missing)} (has: {','.join(header)})")
    dup = sorted({c for c in header if header.count(c) > 1})
    if dup:
        raise InputError(f"{path}: line 1: duplicate column(s) {', '.join(dup)}")
    # Unknown columns are read as text and ignored, so brokers may keep extra fields.
    return Source(
        origin=path,
        path=path,
        fmt="csv",
        columns=header,
        compression="gzip" if is_gzip(path) else "none",
    )


__all__ = ["csv_source", "CANONICAL"]
