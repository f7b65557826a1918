"""The ccinspect web application (Django): brokers run their inspections, with evidence, findings and
remediation. Settings come from the environment (see settings.py and docs/web.md)."""

import os


def setup(debug: bool | None = None) -> None:
    """Configure Django for use from the CLI."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccinspect.web.settings")
    if debug is not None:
        os.environ.setdefault("CCINSPECT_DEBUG", "1" if debug else "0")
    import django

    django.setup()
