"""Shared CLI helpers: output formats, error reporting."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Any

import typer
from rich.console import Console

from ccinspect.core.exitcodes import ExitCode

console = Console()
err_console = Console(stderr=True)


class Lang(StrEnum):
    zh = "zh"
    en = "en"


class Fmt(StrEnum):
    table = "table"
    json = "json"


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def fail(message: str, code: int = ExitCode.BAD_INPUT) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(int(code))


def out_file(out, field: str = "--out"):
    """A file an option names to write: its folder must exist (no traceback, no folders made by a typo)."""
    from pathlib import Path

    out = Path(out)
    if out.is_dir():
        fail(f"{field}: {out} is a folder; expected a file name")
    if not out.parent.is_dir():
        fail(f"{field}: folder {out.parent} does not exist; expected a file in an existing folder")
    return out
