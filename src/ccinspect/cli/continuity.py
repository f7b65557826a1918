"""`ccinspect continuity`: the business continuity register (CC-20000) — status, XLSX template, import, export."""

from __future__ import annotations

import typer

app = typer.Typer(help="營運持續管理 (CC-20000): the business continuity register, its gaps and the amendment.",
                  no_args_is_help=True)
