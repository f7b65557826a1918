"""Campaigns against the broker's baseline: a steady rate of strangers' single failures is ordinary."""

from __future__ import annotations

import json
import random

from typer.testing import CliRunner

from ccinspect.cli import app

runner = CliRunner()


def _day(path, burst: int, seed: int = 5):
    """Each hour: 200 customers log in from home; 30 other home addresses each fail once on an id
    that is no customer (all day long, as typos and stale bookmarks do); `burst` proxies at 14:00."""
    rng = random.Random(seed)
    rows = ["ts,account,ip,result"]
    for h in range(24):
        for k in range(200):
            rows.append(f"2024-05-02T{h:02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d},C{k},36.224.{h}.{k},success")
        for k in range(30):
            rows.append(f"2024-05-02T{h:02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d},Z{h}x{k},114.24.{h}.{k},failure")
    for k in range(burst):
        rows.append(f"2024-05-02T14:{rng.randrange(60):02d}:{rng.randrange(60):02d},L{k:05d},177.{k // 200}.{k % 200}.9,failure")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _scan(tmp_path, events):
    roster = tmp_path / "roster.csv"
    roster.write_text("account\n" + "".join(f"C{k}\n" for k in range(200)), encoding="utf-8")
    r = runner.invoke(app, ["logins", "scan", str(events), "--customers", str(roster), "--format", "json", "-q"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_steady_single_failures_are_the_baseline_not_a_campaign(tmp_path):
    d = _scan(tmp_path, _day(tmp_path / "e.csv", burst=0))
    # 30 suspect addresses an hour (the old fixed rule fired at 20) but no departure from the baseline.
    assert [a for a in d["alerts"] if a["kind"] == "stuffing_campaign"] == []


def test_a_burst_above_the_baseline_is_a_campaign_with_its_evidence(tmp_path):
    d = _scan(tmp_path, _day(tmp_path / "e.csv", burst=150))
    (c,) = [a for a in d["alerts"] if a["kind"] == "stuffing_campaign"]
    burst = {f"177.{k // 200}.{k % 200}.9" for k in range(150)}
    assert burst <= set(c["ips"])
    # The ordinary strangers of the campaign's windows (up to an hour before its peak) ride along:
    # nothing ties them apart from the attackers; at most two hours of the background rate (30/h).
    assert len(set(c["ips"]) - burst) <= 60
    n = c["counts"]
    assert n["expected_in_window"] > 20 and n["peak_addresses_in_window"] >= 3 * n["expected_in_window"]
    assert "no history" in n["baseline"] and c["thresholds"]["burst_factor"] == 3
    assert c["confidence"] == "high" and len(n["ties"]) >= 2
    assert c["evidence_total"] >= 150 and c["evidence"][0]["line"].isdigit()
