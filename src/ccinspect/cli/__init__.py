"""The `ccinspect` command: a thin layer over the library."""

from __future__ import annotations

import typer

from ccinspect.core.exitcodes import epilog

from . import applicability as _applicability
from . import brokers as _brokers
from . import catalog as _catalog
from . import continuity as _continuity
from . import demo as _demo
from . import inspect as _inspect
from . import integrity as _integrity
from . import logins as _logins
from . import report as _report
from . import web as _web

app = typer.Typer(
    name="ccinspect",
    help="建立證券商資通安全檢查機制 — TWSE cybersecurity inspection for securities brokers.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(_catalog.app, name="catalog")
app.add_typer(_brokers.app, name="broker")
app.add_typer(_continuity.app, name="continuity")
app.add_typer(_logins.app, name="logins")
_applicability.register(app)
_demo.register(app)
_inspect.register(app)
_integrity.register(app)
_report.register(app)
_web.register(app)


def _exit_codes_in_help(t: typer.Typer) -> None:
    """Every command's --help ends with the one exit-code table (core.exitcodes)."""
    t.info.epilog = t.info.epilog or epilog()
    for cmd in t.registered_commands:
        cmd.epilog = cmd.epilog or epilog()
    for group in t.registered_groups:
        group.epilog = group.epilog or epilog()
        if group.typer_instance is not None:
            _exit_codes_in_help(group.typer_instance)


_exit_codes_in_help(app)

__all__ = ["app"]
