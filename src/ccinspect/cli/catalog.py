"""`ccinspect catalog …`."""

import typer

app = typer.Typer(help="The regulation catalog: list, show, diff, export.", no_args_is_help=True)
