"""`ccinspect logins normalize`: the canonical events exactly as the readers produced them.

Each event carries its source file and line, so a user can check what was read and every alert can point
at its lines. CSV text cells go through core.safe_cells (a cell a spreadsheet would run as a formula gets a
leading apostrophe); JSON Lines keep every value exactly.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from ccinspect.core.files import atomic_write_text
from ccinspect.core.safe_cells import csv_escape

from .adapters import EVENT_COLUMNS, InputError, Problems, ReadContext, expand, open_input, read_file
from .adapters.mapping import load_mapping
from .pipeline import zone

_TEXT = ("account", "reason", "channel", "user_agent", "device_id", "country", "source_file")


def events(files: list[Path], problems: Problems, ctx: ReadContext, input_format: str) -> Iterator[dict]:
    """Every event of every file; an unreadable file is accounted and the others go on."""
    errors = []
    for p in files:
        acct = None
        try:
            fmt, acct = open_input(p, problems, fmt=input_format, mapping=ctx.mapping, now=ctx.now)
            if fmt != "empty":
                yield from read_file(p, fmt, acct, ctx)
            else:
                acct.format = "empty"
        except (InputError, OSError) as exc:
            err = exc if isinstance(exc, InputError) else InputError(f"{p}: cannot read: {exc.strerror or exc}")
            errors.append(err)
            if acct is None:
                acct = problems.open_file(p, input_format, "option")
            acct.error = err.to_dict()
        acct.finish()
    if files and len(errors) == len(files):
        e = errors[0]  # as this package's error, so callers catching it catch the kernel's too
        raise e if isinstance(e, InputError) else InputError(
            e.msg, file=e.file, line=e.line, record=e.record, field=e.field, expected=e.expected,
            located=e.located, **e.params)


def normalize_files(patterns: list[str], *, out: Path | None = None, fmt: str = "csv", input_format: str = "auto",
                    mapping: str | Path | None = None, year: int | None = None, timezone: str | None = None,
                    accounting: Path | None = None, now: datetime | None = None) -> Problems:
    tz = zone(timezone)
    ctx = ReadContext(tz=tz, year=year, now=now or datetime.now(tz),
                      mapping=load_mapping(mapping) if mapping else None)
    paths = expand(patterns)
    problems = Problems()
    tmp = None
    if out is not None:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
        f = os.fdopen(fd, "w", encoding="utf-8", newline="")
    else:
        f = sys.stdout
    try:
        if fmt == "csv":
            w = csv.writer(f, lineterminator="\n")
            w.writerow(EVENT_COLUMNS)
            for ev in events(paths, problems, ctx, input_format):
                w.writerow([csv_escape(ev.get(c) or "") if c in _TEXT else ev.get(c) or "" for c in EVENT_COLUMNS])
        else:
            for ev in events(paths, problems, ctx, input_format):
                f.write(json.dumps({c: ev.get(c) for c in EVENT_COLUMNS}, ensure_ascii=False) + "\n")
        if tmp is not None:
            f.flush()
            os.fsync(f.fileno())
            f.close()
            os.replace(tmp, out)
            tmp = None
    finally:
        if tmp is not None:
            f.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    if accounting is not None:
        atomic_write_text(accounting, json.dumps({"partial": problems.partial, "accounting": problems.inputs()},
                                                 ensure_ascii=False, indent=2))
    return problems
