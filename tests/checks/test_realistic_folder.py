"""A realistic evidence folder (tests/checks/realistic_folder.py): the deficiencies planted in real
formats are caught (≥ 95%), clean items are not flagged (≤ 2%), and every damaged file is named without
hiding another file's findings."""

import datetime as dt
from pathlib import Path

from tests.checks.realistic_folder import AS_OF, build
from typer.testing import CliRunner

from ccinspect.applicability import load_profile
from ccinspect.checks import inspect

PROFILE = Path(__file__).parents[2] / "examples" / "broker.yaml"


def _facts(res) -> set[tuple[str, str]]:
    out = set()
    for c in [c for r in res.requirements for c in r.checks] + list(res.outside_checklist):
        for f in c.facts:
            if f.subject:
                out.add((f"{c.analyzer}.{c.rule}", f.subject))
    return out


def test_realistic_folder(tmp_path):
    ev = tmp_path / "evidence"
    expected = build(ev)
    res = inspect(load_profile(PROFILE), ev, AS_OF)
    facts = _facts(res)
    planted, clean = expected["planted"], expected["clean"]
    caught = [p for p in planted if p in facts]
    missed = sorted(set(planted) - set(caught))
    flagged = sorted(c for c in clean if c in facts)
    assert len(planted) >= 15 and len(clean) >= 60
    assert len(caught) / len(planted) >= 0.95, f"missed {missed}"
    assert len(flagged) / len(clean) <= 0.02, f"clean items flagged: {flagged}"
    data = res.to_dict()
    unreadable = {e["file"] for e in data["unreadable"]}
    assert set(expected["damaged"]) <= unreadable, set(expected["damaged"]) - unreadable
    assert unreadable <= set(expected["damaged"]), unreadable - set(expected["damaged"])
    zips = {e["file"]: e["message"] for e in data["unreadable"] if e["file"].endswith(".zip")}
    assert all("path traversal" in m for m in zips.values()) and len(zips) == 2
    assert data["not_used"] == expected["unused"]
    # the damaged files' requirements are partial, not errors, and still carry the other files' facts
    req = res.get("CC-19000.9")
    assert req.status.value == "fail" and any(c.unusable for c in req.checks)
    scan = next(e for e in data["evidence"] if e["path"] == "vulnscan/reports/nessus_2024-05.nessus")
    assert scan["represents"] == {"date": "2024-05-20", "source": "file"}  # 07:30 in Taipei, not the UTC day


def test_realistic_folder_cli_exits_partial(tmp_path):
    from ccinspect.cli import app

    ev = tmp_path / "evidence"
    build(ev)
    out = CliRunner().invoke(app, ["inspect", "--profile", str(PROFILE), "--evidence", str(ev),
                                   "--as-of", AS_OF.isoformat()])
    assert out.exit_code == 3, out.output
    assert "unreadable evidence:" in out.stdout and "accounts/legacy_app.csv:2" in out.stdout
    assert "not used:" in out.stdout and dt.date(2024, 6, 30).isoformat() in out.stdout
