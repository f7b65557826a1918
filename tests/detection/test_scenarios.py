"""Frozen scenarios (issue 19): ordinary days with realistic typos plus planted attacks, several seeds.

Frozen before tuning: the seeds, sizes and typo rates below are not to be changed to make a test pass.
Each seed is scored on one day without history and on a trading week (four ordinary days building
--state, then the attack day), at the realistic typo rate and at twice that rate.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ccinspect.detection.adapters import Problems, expand, prepare
from ccinspect.detection.engine import Engine
from ccinspect.detection.rules import load_rules
from ccinspect.detection.state import State
from ccinspect.detection.synth import generate

SEEDS = (7, 11, 23)
N_EVENTS = 50_000
TYPO = 0.0015  # mistyped ids per session (hundreds a day at 400,000 daily customers)
DAY = date(2024, 5, 10)


def _run(ds, state, work):
    problems = Problems()
    sources = prepare(expand([str(ds.events)]), work, problems)
    return Engine(load_rules()).scan(sources, ds.roster, allow=ds.allow, state=State(state), problems=problems)


def score(result, truth) -> dict:
    got, want = result.attack_ips(), truth.all_attackers()
    notified = {n.account for n in result.notifications}
    taken = set(truth.takeover_accounts)
    # Travellers asked to confirm a login from abroad are right to be asked: not counted against precision.
    judged = notified - set(truth.traveller_accounts)
    shared = set(truth.nat_ips) | set(truth.office_ips) | set(truth.monitor_ips)
    return {
        "recall": len(got & want) / len(want),
        "precision": len(got & want) / max(len(got), 1),
        "notified_recall": len(notified & taken) / len(taken),
        "notified_precision": len(judged & taken) / max(len(judged), 1),
        "shared_alerted": sorted({ip for a in result.alerts if a.kind != "new_source" for ip in a.ips} & shared
                                 | {ip for n in result.notifications for ip in n.ips} & shared),
        "notified": len(notified),
    }


@pytest.fixture(scope="module", params=[(s, t) for s in SEEDS for t in (TYPO, 2 * TYPO)],
                ids=lambda p: f"seed{p[0]}-typo{p[1]}")
def scenario(request, tmp_path_factory):
    seed, typo = request.param
    root = tmp_path_factory.mktemp(f"s{seed}")
    state = root / "state"
    for d in range(4):  # ordinary days of the week, building history
        q = generate(root / f"q{d}", N_EVENTS, seed=seed * 100 + d, day=DAY - timedelta(days=4 - d), attacks=False,
                     typo_rate=typo)
        _run(q, state, root / f"wq{d}")
    ds = generate(root / "attack", N_EVENTS, seed=seed, day=DAY, typo_rate=typo)
    return {"day": score(_run(ds, None, root / "w1"), ds.truth),
            "week": score(_run(ds, state, root / "w2"), ds.truth)}


def test_week_with_state_meets_every_target(scenario):
    s = scenario["week"]
    assert s["recall"] >= 0.95, s
    assert s["precision"] >= 0.97, s
    assert s["notified_recall"] >= 0.95, s
    assert s["notified_precision"] >= 0.9, s
    assert s["shared_alerted"] == [], s


def test_day_without_history_keeps_precision(scenario):
    s = scenario["day"]
    assert s["precision"] >= 0.97, s
    assert s["notified_precision"] >= 0.9, s
    assert s["shared_alerted"] == [], s
    # Measured floor (not the target, see the next test): what history adds is recall.
    assert s["recall"] >= 0.92, s
    assert s["notified_recall"] >= 0.7, s


@pytest.mark.xfail(strict=True, reason=(
    "without history a proxy that tried one real customer once, or failed once and then got in, is "
    "indistinguishable from a customer's own slip: address recall 0.93-0.95, notified 0.75-1.0 (issue 19 target 0.95)"))
def test_day_without_history_recall_target(scenario):
    s = scenario["day"]
    assert s["recall"] >= 0.95 and s["notified_recall"] >= 0.95, s
