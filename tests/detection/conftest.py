"""Shared synthetic days: one quiet day that builds history, one day with planted attacks."""

from __future__ import annotations

from datetime import date

import pytest

from ccinspect.detection.adapters import Problems, expand, prepare
from ccinspect.detection.engine import Engine
from ccinspect.detection.rules import load_rules
from ccinspect.detection.state import State
from ccinspect.detection.synth import generate

N_EVENTS = 150_000


def run_engine(events, roster, allow=None, state_dir=None, work=None):
    problems = Problems()
    sources = prepare(expand([str(events)]), work, problems)
    return Engine(load_rules()).scan(sources, roster, allow=allow, state=State(state_dir), problems=problems)


@pytest.fixture(scope="session")
def days(tmp_path_factory):
    """(history day, attack day, results with state, result of the attack day without state)."""
    root = tmp_path_factory.mktemp("days")
    quiet = generate(root / "d1", N_EVENTS, seed=1, day=date(2024, 5, 1), attacks=False, outage=False, travel=False)
    attack = generate(root / "d2", N_EVENTS, seed=7, day=date(2024, 5, 2))
    state = root / "state"
    r1 = run_engine(quiet.events, quiet.roster, quiet.allow, state, root / "w1")
    r2 = run_engine(attack.events, attack.roster, attack.allow, state, root / "w2")
    r_nostate = run_engine(attack.events, attack.roster, attack.allow, None, root / "w3")
    return {"quiet": quiet, "attack": attack, "r_quiet": r1, "r_attack": r2, "r_nostate": r_nostate, "state": state}
