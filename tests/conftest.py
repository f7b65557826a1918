"""Shared fixtures: the catalog, and the seed documents (the regulation's ground truth)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ccinspect.catalog import load_catalog

REPO = Path(__file__).resolve().parents[1]


def seeds_dir() -> Path:
    env = os.environ.get("CCINSPECT_SEEDS")
    for cand in ([Path(env)] if env else []) + [REPO.parent / "shared" / "seeds", REPO / "shared" / "seeds"]:
        if cand.is_dir():
            return cand
    raise FileNotFoundError("the seed documents (shared/seeds beside the repo) are missing; set CCINSPECT_SEEDS")


def seed_text(prefix: str) -> str:
    (path,) = sorted(seeds_dir().glob(f"{prefix}_*.txt"))
    return path.read_text(encoding="utf-8")


def squash(s: str) -> str:
    """Whitespace removed: the seeds are PDF extractions with arbitrary line breaks and spacing."""
    return re.sub(r"\s+", "", s)


def missing(reason: str) -> None:
    """A tool the set-up installs is absent: fail in CI (a green run must not hide a missing install), skip
    on a developer's machine."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI installs it: bash scripts/system-deps.sh)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def catalog():
    return load_catalog()


@pytest.fixture(scope="session")
def mechanism(catalog):
    return catalog.version("mechanism")
