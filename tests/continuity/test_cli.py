"""`ccinspect continuity …` over the demo register and real files."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from ccinspect.cli import app
from ccinspect.continuity import REGISTER_YAML, load_register

REPO = Path(__file__).resolve().parents[2]
PROFILE = REPO / "examples" / "broker.yaml"
DEMO = REPO / "examples" / "continuity"
runner = CliRunner()


def cli(*args: str):
    return runner.invoke(app, ["continuity", *map(str, args)], env={"COLUMNS": "200"})


def test_demo_status_json_has_the_documented_gaps():
    res = cli("status", "--profile", PROFILE, "--data", DEMO, "--as-of", "2025-06-30", "--format", "json")
    assert res.exit_code == 0, res.output
    st = json.loads(res.output)
    assert st["tier"] == 3
    assert sorted(g["rule"] for g in st["gaps"]) == sorted([
        "bia-stale", "rto-over-tolerable", "drill-shortfall", "drill-over-tolerable", "ddos-drill-missing",
        "fault-test-no-review", "fallback-plan-missing", "risk-scenario-missing", "provider-plan-stale"])
    assert [(g["rule"], g["system"]) for g in st["upcoming"]] == [("dr-major-impact", "MID-01"),
                                                                  ("dr-major-impact", "APP-01")]
    assert st["dr_outlook"]["days_left"] == 914
    bia = next(g for g in st["gaps"] if g["rule"] == "bia-stale")
    assert [(c["version"], c["ref_id"]) for c in bia["clauses"]] == [("amended", "CC-20000.七"),
                                                                     ("pre-amendment", "CC-20000.八")]
    assert st["tolerance"]["classes"] == [] and st["tolerance"]["feeds"]["brokerage_market_share"] == 1.8
    assert {d["system"]: d["drill"]["id"] for d in st["last_drills"]}["MID-01"] == "BCP-2025-2"


def test_demo_status_table_and_fail_on_gaps():
    res = cli("status", "--profile", PROFILE, "--data", DEMO, "--as-of", "114/06/30", "--lang", "en",
              "--fail-on-gaps")
    assert res.exit_code == 1
    assert "CC-20000.七 (pre-amendment, changed)" in res.output
    assert "will fall short on 2027-12-31 (914 days left" in res.output
    assert "tolerance classes: 0 row(s)" in res.output


def test_status_after_the_milestone_turns_the_shortfall_into_gaps():
    res = cli("status", "--profile", PROFILE, "--data", DEMO, "--as-of", "2027-12-31", "--format", "json")
    st = json.loads(res.output)
    assert st["upcoming"] == []
    assert sorted(g["system"] for g in st["gaps"] if g["rule"] == "dr-major-impact") == ["APP-01", "MID-01"]


def test_template_import_export(tmp_path):
    res = cli("template", tmp_path / "t.xlsx")
    assert res.exit_code == 0 and (tmp_path / "t.xlsx").is_file()
    res = cli("export", "--data", DEMO, tmp_path / "demo.xlsx")
    assert res.exit_code == 0, res.output
    assert load_workbook(tmp_path / "demo.xlsx")["systems"].max_row == 7
    res = cli("import", tmp_path / "demo.xlsx", "--data", tmp_path / "data")
    assert res.exit_code == 0, res.output
    assert load_register(tmp_path / "data" / REGISTER_YAML) == load_register(DEMO)


def test_import_of_a_bad_workbook_names_the_cell_and_writes_nothing(tmp_path):
    cli("export", "--data", DEMO, tmp_path / "demo.xlsx")
    wb = load_workbook(tmp_path / "demo.xlsx")
    wb["drills"]["C3"] = "yesterday"
    wb.save(tmp_path / "demo.xlsx")
    res = cli("import", tmp_path / "demo.xlsx", "--data", tmp_path / "data")
    assert res.exit_code == 2
    assert "nothing imported" in res.output
    assert "sheet drills, row 3, column C (date)" in res.output
    assert not (tmp_path / "data").exists()


def test_status_on_a_broken_register(tmp_path):
    (tmp_path / REGISTER_YAML).write_text("systems:\n  - {id: A, name: a}\n", encoding="utf-8")
    res = cli("status", "--profile", PROFILE, "--data", tmp_path, "--as-of", "2025-06-30")
    assert res.exit_code == 2
    assert "continuity.yaml: section systems, record 1, field owner" in res.output


def test_amendment_side_by_side():
    res = cli("amendment", "--format", "json")
    assert res.exit_code == 0
    ch = {c["ref_id"]: c for c in json.loads(res.output)}
    assert list(ch) == ["CC-20000.七", "CC-20000.八", "CC-20000.十一"]
    assert ch["CC-20000.七"]["continues"] == "CC-20000.八"
    assert ch["CC-20000.八"]["continues"] == "CC-20000.七"
    assert ch["CC-20000.十一"]["after"].endswith("並每年進行演練。")
    assert ch["CC-20000.十一"]["before"] == "公司應明確訂定分散式阻斷服務攻擊(DDoS)防禦與應變作業程序。"
    res = cli("amendment")
    assert "（承修正前 CC-20000.八）" in res.output and "修正說明" in res.output


def test_rules_listing():
    res = cli("rules", "--format", "json")
    rules = {r["id"]: r for r in json.loads(res.output)}
    assert rules["dr-major-impact"]["clauses"][0]["ref_id"] == "CC-20000.八"
    assert rules["fault-test-missing"]["assumed"] is True
