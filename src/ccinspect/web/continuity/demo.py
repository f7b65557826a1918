"""The demo broker's continuity register: examples/continuity/continuity.yaml, dated relative to today.

The example is written as of 2025-06-30; every date up to then moves forward by the days between that date and
today, so the register shows the same few gaps whenever the demo is seeded. Later dates (the front-end system's
planned DR move in 2027) are plans tied to the DR-site milestone and stay as they are."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ccinspect.continuity import KINDS, Register, read_yaml
from ccinspect.web.accounts import audit

from . import services as svc

EXAMPLE = Path(__file__).resolve().parents[4] / "examples" / "continuity" / "continuity.yaml"
EXAMPLE_AS_OF = dt.date(2025, 6, 30)


def demo_register(today: dt.date, path: Path = EXAMPLE) -> Register:
    reg = read_yaml(path)
    shift = today - EXAMPLE_AS_OF

    def move(v):
        return v + shift if isinstance(v, dt.date) and v <= EXAMPLE_AS_OF else v

    data = {k: [{f: move(v) for f, v in r.model_dump().items()} for r in getattr(reg, k)] for k in KINDS}
    return Register.model_validate(data)


def seed(org, officer, today: dt.date) -> int:
    """Load the register into the broker once (a second run leaves it alone); returns the records created."""
    if not EXAMPLE.exists() or svc.rows(org, "systems").exists():
        return 0
    with audit.acting_as(officer):
        counts = svc.replace_register(officer, org, demo_register(today), source=EXAMPLE.name)
    return sum(counts.values())
