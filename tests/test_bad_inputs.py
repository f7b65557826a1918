"""Issue 20: each bad input gets a one-line error naming the field and what was expected; valid but suspicious
input gets a warning and exit code 3 (PARTIAL). Nothing is answered silently."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ccinspect.applicability import ProfileError, profile_from_mapping
from ccinspect.cli import app
from ccinspect.core.dates import DateParseError, parse_date, to_roc
from ccinspect.core.exitcodes import ExitCode

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "examples" / "broker.yaml"
runner = CliRunner()


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.parametrize("data, words", [
    ({"capital": 0}, "no paid-in or allocated operating capital"),
    ({"capital": "0億"}, "no paid-in or allocated operating capital"),
    ({}, "no paid-in or allocated operating capital"),
    ({"capital": None}, "no paid-in or allocated operating capital"),
    ({"capital": "250億", "last_performed": {"vulnerabilty-scan": "2024-01-01"}},
     "field 'last_performed': unknown duty id 'vulnerabilty-scan'; expected one of"),
    ({"capital": "250億", "last_performed": {"vulnerability-scan": (dt.date.today() + dt.timedelta(days=1))}},
     "vulnerability-scan: " + (dt.date.today() + dt.timedelta(days=1)).isoformat() + " is in the future"),
    ({"capital": "250億", "last_performed": {"vulnerability-scan": "1900-05-01"}}, "before ROC year 1"),
])
def test_broker_profile_refuses(data, words):
    with pytest.raises(ProfileError) as exc:
        profile_from_mapping(data)
    assert words in str(exc.value) and "\n" not in str(exc.value)


def test_a_good_profile_still_loads():
    p = profile_from_mapping({"capital": "250億", "last_performed": {"vulnerability-scan": "113/01/31"}})
    assert p.capital == 25_000_000_000 and p.last_performed["vulnerability-scan"] == dt.date(2024, 1, 31)


@pytest.mark.parametrize("value", ["1900-01-01", "1911-12-31", dt.date(1899, 5, 1), "1911年12月31日"])
def test_dates_before_roc_year_one_are_refused(value):
    with pytest.raises(DateParseError, match=r"before ROC year 1 \(1912-01-01\)"):
        parse_date(value, field="--as-of")


def test_roc_year_one_is_the_first_day_shown():
    assert to_roc(parse_date("1912-01-01")) == "001/01/01" and parse_date("001/01/01") == dt.date(1912, 1, 1)


@pytest.mark.parametrize("args, words", [
    (["applicable", "--capital", "0"], "no paid-in or allocated operating capital"),
    (["applicable", "--capital", "100億", "--tier-source", "bogus"],
     "--tier-source: 'bogus' is not a tier source; expected one of 001, 003"),
    (["applicable", "--capital", "100億", "--as-of", "1900-01-01"], "--as-of: '1900-01-01' is before ROC year 1"),
    (["calendar", "--capital", "100億", "--from", "1900-01-01", "--to", "2025-01-01"], "--from: '1900-01-01'"),
    (["inspect", "--profile", PROFILE, "--evidence", PROFILE, "--as-of", "2024-06-30"],
     f"--evidence: {PROFILE} is a file; expected the evidence folder"),
    (["inspect", "--profile", PROFILE, "--evidence", ROOT / "nowhere", "--as-of", "2024-06-30"],
     "--evidence: folder"),
])
def test_cli_refuses_with_one_line(args, words):
    code, out = run(*args)
    assert code == ExitCode.BAD_INPUT and words in out, out
    assert "Traceback" not in out


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
def test_catalog_export_into_a_missing_folder(tmp_path, fmt):
    target = tmp_path / "missing" / f"catalog.{fmt}"
    code, out = run("catalog", "export", "--format", fmt, "--out", target)
    assert code == ExitCode.BAD_INPUT and f"--out: folder {target.parent} does not exist" in out, out
    assert not target.parent.exists()
    code, out = run("catalog", "export", "--format", "oscal", "--out", tmp_path / "a" / "b")
    assert code == ExitCode.BAD_INPUT and "does not exist" in out


def test_an_empty_evidence_folder_warns_and_exits_partial(tmp_path):
    (tmp_path / "evidence" / "sub").mkdir(parents=True)
    code, out = run("inspect", "--profile", PROFILE, "--evidence", tmp_path / "evidence", "--as-of", "2024-06-30")
    assert code == ExitCode.PARTIAL and "warning: --evidence: folder" in out and "holds no files" in out


def test_an_empty_continuity_register_says_so(tmp_path):
    (tmp_path / "continuity.yaml").write_text("systems: []\n", encoding="utf-8")
    code, out = run("continuity", "status", "--profile", PROFILE, "--data", tmp_path, "--format", "json")
    assert code == ExitCode.PARTIAL and '"register_empty": true' in out and "the register" in out and "is empty" in out
    code, out = run("continuity", "status", "--profile", PROFILE, "--data", ROOT / "examples" / "continuity")
    assert code == ExitCode.OK and "is empty" not in out
