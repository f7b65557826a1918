"""Coverage as data: every applicable requirement and every focus point has a way to be evidenced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ccinspect.attestation.model import TopicsFile, load_topics
from ccinspect.catalog import load_catalog
from ccinspect.checks.coverage import build, markdown
from ccinspect.checks.rules import load_rules
from ccinspect.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(scope="module")
def cov():
    return build()


def test_no_focus_point_without_method(cov):
    missing = [p["id"] for p in cov["focus_points"] if not p["method"]]
    assert missing == []
    assert len(cov["focus_points"]) == len(load_catalog().focus_points.points)


def test_no_applicable_requirement_without_method(cov):
    missing = [(r["framework"], r["ref_id"]) for r in cov["requirements"] if not r["method"]]
    assert missing == []
    assert cov["totals"]["requirements"]["none"] == 0


def test_analyzer_rules_make_requirements_automated_or_records(cov):
    by_ref = {r["ref_id"]: r for r in cov["requirements"] if r["framework"] == "mechanism"}
    for ref in load_rules().ref_ids():
        assert by_ref[ref]["method"] in ("automated", "records"), ref
        assert by_ref[ref]["analyzers"], ref
    # the accounts exports are read as written by the systems: automated wins over attestation
    assert by_ref["CC-18000.2.f"]["method"] == "automated"
    assert "accounts.dormant" in by_ref["CC-18000.2.f"]["analyzers"]


def test_dropping_a_topic_uncovers_its_points():
    topics = load_topics()
    # ISO 27001 certification is only ever attested (no file proves it): its focus point is the topic's alone.
    # (Social engineering was the example until its drill records got an analyzer of their own.)
    slim = TopicsFile(topics=[t for t in topics.topics if t.id != "iso27001"])
    cov = build(topics=slim)
    assert [p["id"] for p in cov["focus_points"] if not p["method"]] == ["tier1to3-1"]
    assert "tier1to3-1" not in [p["id"] for p in build(topics=topics)["focus_points"] if not p["method"]]


def test_topic_naming_unknown_ref_is_rejected():
    topics = load_topics()
    bad = topics.topics[0].model_copy(update={"ref_ids": ["CC-99999.1"]})
    with pytest.raises(ValueError, match="CC-99999.1"):
        build(topics=TopicsFile(topics=[bad, *topics.topics[1:]]))


def test_cli_json_shape():
    res = runner.invoke(app, ["catalog", "coverage", "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert {"ref_id", "method"} <= set(data["requirements"][0])
    assert {"id", "method"} <= set(data["focus_points"][0])
    fp = {p["id"]: p for p in data["focus_points"]}
    assert fp["tier1to3-1"]["attestation"] == ["iso27001"]


def test_generated_docs_page_is_current(cov):
    page = (ROOT / "docs" / "coverage.md").read_text(encoding="utf-8")
    assert page == markdown(cov), "regenerate: ccinspect catalog coverage --format markdown --out docs/coverage.md"
