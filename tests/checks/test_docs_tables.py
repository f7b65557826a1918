"""docs/evidence.md's rule table holds to rules.yaml: every rule listed with its ref_ids, every interval
or threshold it states is the rule's own, and every assumed interval is said to be one."""

import re
from pathlib import Path

from ccinspect.checks.rules import load_rules

DOC = Path(__file__).parents[2] / "docs" / "evidence.md"


def _rows() -> dict[str, tuple[set[str], str]]:
    text = DOC.read_text(encoding="utf-8").split("## Analyzers and their rules", 1)[1]
    out = {}
    for line in text.splitlines():
        m = re.match(r"^\| ([a-z_]+\.[a-z_*]+) \| ([^|]+) \| (.+) \|$", line)
        if m:
            out[m[1]] = ({r.strip() for r in m[2].split(",")}, m[3])
    return out


def _numbers(params: dict) -> set[float]:
    out: set[float] = set()
    for v in params.values():
        if isinstance(v, bool):
            continue
        if isinstance(v, int | float):
            out.add(float(v))
        elif isinstance(v, dict):
            out |= _numbers(v)
    return out


def test_every_rule_is_documented_with_its_ref_ids_and_its_own_numbers():
    rows, table = _rows(), load_rules()
    for aid, spec in table.analyzers.items():
        if spec.live:
            continue
        for rid, rule in spec.rules.items():
            key = f"{aid}.{rid}"
            assert key in rows, f"{key} missing from docs/evidence.md"
            refs, text = rows[key]
            assert refs == set(rule.ref_ids), key
            allowed = _numbers(rule.params)
            for n, unit in re.findall(r"(\d+(?:\.\d+)?)[ -](months?|days?|years?)\b", text):
                assert float(n) in allowed, f"{key}: the docs say {n} {unit}, rules.yaml has {sorted(allowed)}"
            if rule.params.get("interval_assumed"):
                assert "assumption" in text.lower(), f"{key}: its interval is assumed; the docs must say so"


def test_pentest_interval_is_an_assumption_not_003s_figures():
    rule = load_rules().analyzers["security_tests"].rules["penetration_test"]
    assert rule.params["interval_assumed"] is True
    assert set(rule.params["frequency_months_by_tier"].values()) == {12}
    assert "24" not in _rows()["security_tests.penetration_test"][1]
