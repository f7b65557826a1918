"""Shared fixtures: the catalog, and the seed documents (the regulation's ground truth)."""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from pathlib import Path

import pytest

# Rich fixes a console's width from COLUMNS when the console is made (at import); xdist's workers inherit a
# COLUMNS of 80, so tables that CliRunner widens per call would be cut. Let each call's environment decide.
os.environ.pop("COLUMNS", None)

from ccinspect.catalog import load_catalog  # noqa: E402
from ccinspect.catalog.loader import source_path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def seed_text(prefix: str) -> str:
    """A source document's text: the copy bundled in src/ccinspect/catalog/sources, or CCINSPECT_SEEDS's."""
    return source_path(prefix).read_text(encoding="utf-8")


def squash(s: str) -> str:
    """Whitespace removed: the seeds are PDF extractions with arbitrary line breaks and spacing."""
    return re.sub(r"\s+", "", s)


def missing(reason: str) -> None:
    """A tool the set-up installs is absent: fail in CI (a green run must not hide a missing install), skip
    on a developer's machine."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI installs it: bash scripts/system-deps.sh)")
    pytest.skip(reason)


@contextlib.contextmanager
def scratch_postgres(prefix: str, admin_url: str):
    """A PostgreSQL database of the test's own (for servers and restores outside pytest-django's test
    database), dropped afterwards; yields its URL."""
    import psycopg

    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        missing(f"PostgreSQL not reachable at {admin_url}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield admin_url.rsplit("/", 1)[0] + "/" + name
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def catalog():
    return load_catalog()


@pytest.fixture(scope="session")
def mechanism(catalog):
    return catalog.version("mechanism")
