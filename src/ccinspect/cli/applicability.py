"""`ccinspect applicable` and `ccinspect calendar`."""

import typer


def register(app: typer.Typer) -> None:
    return None
