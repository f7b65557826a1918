"""`ccinspect demo`: the main job of `make run`."""

import typer


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo() -> None:
        """A tour of the catalog and applicability."""
        from ccinspect.catalog import load_catalog

        cat = load_catalog()
        typer.echo(f"{len(cat.version('mechanism').requirements)} requirements loaded")
