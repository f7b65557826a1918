"""Canonical CSV: scanned by DuckDB in place (only the header is checked here); read line by line in
Python only by `logins normalize`, which must name each event's line."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from . import (
    CANONICAL,
    REQUIRED,
    FileAccount,
    InputError,
    ReadContext,
    Reader,
    Source,
    is_gzip,
    open_text,
    register,
)
from .mapping import Mapping, read_mapped


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


CSV_MAPPING = Mapping(format="csv", fields={c: c for c in CANONICAL})


def read_csv(path: Path, acct: FileAccount, ctx: ReadContext) -> Iterator[dict]:
    csv_source(path)  # the same header checks as the scan
    return read_mapped(path, acct, ctx, CSV_MAPPING)


register(Reader("csv", "canonical CSV", read_csv, None))

__all__ = ["csv_source", "read_csv", "CANONICAL"]
