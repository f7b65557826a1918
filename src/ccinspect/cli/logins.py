"""`ccinspect logins …`: daily login monitoring (credential stuffing, brute force, spraying)."""

import typer

app = typer.Typer(help="Login monitoring over core-system login logs.", no_args_is_help=True)
