"""Catalog exports (JSON, CSV, XLSX, OSCAL checked with compliance-trestle) and the catalog/applicability CLI."""

from __future__ import annotations

import csv
import io
import json

from openpyxl import load_workbook
from typer.testing import CliRunner

from ccinspect.cli import app

runner = CliRunner()


def run(*args: str):
    res = runner.invoke(app, list(args))
    return res


def test_export_json_has_every_node_with_the_required_fields(mechanism, catalog):
    res = run("catalog", "export", "--format", "json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    reqs = doc["requirements"]
    ic = catalog.version("internal-control")
    assert len(reqs) == len(mechanism.requirements) + len(ic.requirements)
    required = {"framework", "version", "ref_id", "parent", "text", "text_en", "cadence", "assessable",
                "applies_to", "effective_from"}
    assert all(required <= set(r) for r in reqs)
    by_id = {(r["framework"], r["ref_id"]): r for r in reqs}
    r = by_id[("mechanism", "CC-17010.i.a")]
    assert r["parent"] == "CC-17010.i" and r["cadence"] == "monthly" and r["effective_from"] == "2022-01-31"
    assert set(r["applies_to"]) == {"internet_orders", "by_tier"}
    assert by_id[("internal-control", "CC-20000.八")]["milestones"][0]["date"] == "2027-12-31"


def test_export_json_of_an_older_version(tmp_path):
    out = tmp_path / "old.json"
    res = run("catalog", "export", "--format", "json", "--version", "pre-2020", "--framework", "mechanism",
              "--out", str(out))
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    ids = {r["ref_id"] for r in doc["requirements"]}
    assert "CC-11000.4" not in ids and "CC-11000.3" in ids
    assert {r["version"] for r in doc["requirements"]} == {"pre-2020"}


def test_export_csv_and_xlsx(tmp_path, mechanism):
    res = run("catalog", "export", "--format", "csv", "--framework", "mechanism")
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert len(rows) == len(mechanism.requirements)
    assert rows[0]["ref_id"] == "CC-11000" and rows[0]["text_en"]
    x = tmp_path / "catalog.xlsx"
    res = run("catalog", "export", "--format", "xlsx", "--out", str(x))
    assert res.exit_code == 0, res.output
    wb = load_workbook(x)
    ws = wb["mechanism 2020-12-11"]
    assert ws.max_row == len(mechanism.requirements) + 1
    header = [c.value for c in ws[1]]
    assert header[2] == "ref_id"
    assert any(row[2].value == "CC-18000.3.e" for row in ws.iter_rows(min_row=2))
    assert "tier duties" in wb.sheetnames and "focus points" in wb.sheetnames


def test_export_oscal_validates_with_trestle(tmp_path, mechanism):
    from trestle.oscal.catalog import Catalog as OscalCatalog
    from trestle.oscal.profile import Profile

    res = run("catalog", "export", "--format", "oscal", "--out", str(tmp_path), "--as-of", "2026-11-24")
    assert res.exit_code == 0, res.output
    cat_file = tmp_path / "catalog-mechanism-2020-12-11.json"
    oc = OscalCatalog.oscal_read(cat_file)
    assert len(oc.groups) == 13

    def walk(controls):
        for c in controls or []:
            yield c
            yield from walk(c.controls)

    ids = {g.id for g in oc.groups} | {c.id for g in oc.groups for c in walk(g.controls)}
    assert ids == {r.ref_id.lower() for r in mechanism.requirements}
    assert (tmp_path / "catalog-internal-control-amended.json").exists()
    assert (tmp_path / "catalog-mechanism-pre-2020.json").exists()
    selected = {}
    for tier in (1, 2, 3, 4):
        prof = Profile.oscal_read(tmp_path / f"profile-tier-{tier}-2020-12-11.json")
        assert prof.imports[0].href == "catalog-mechanism-2020-12-11.json"
        selected[tier] = set(prof.imports[0].include_controls[0].with_ids)
        assert selected[tier] <= ids
    assert "cc-17010.i.f" in selected[1] and "cc-17010.i.f" in selected[2] and "cc-17010.i.f" not in selected[3]
    assert "cc-17010.i.a" in selected[3] and "cc-17010.i.a" not in selected[4]
    assert selected[4] < selected[3] < selected[2] <= selected[1]


def test_catalog_list_show_diff():
    res = run("catalog", "list", "--chapter", "CC-18000", "--format", "json")
    doc = json.loads(res.stdout)
    assert doc["requirements"][0]["ref_id"] == "CC-18000" and len(doc["requirements"]) == 40
    res = run("catalog", "show", "CC-17010.i.c", "--format", "json")
    doc = json.loads(res.stdout)
    assert doc["text_en"] and doc["tier_duties"] and doc["focus_points"]
    assert {h["version"]: h["text"] is None for h in doc["history"]} == {
        "pre-2020": True, "2020-draft": False, "2020-12-11": False}
    res = run("catalog", "show", "CC-20000.八", "--framework", "internal-control")
    assert res.exit_code == 0 and "2027-12-31" in res.stdout
    res = run("catalog", "diff", "--from", "2020-draft", "--to", "2020-12-11", "--format", "json")
    changes = {c["ref_id"]: c for c in json.loads(res.stdout)["changes"]}
    assert "不得使用" in changes["CC-17010.b.g"]["from"]["text"]
    assert "應避免使用" in changes["CC-17010.b.g"]["to"]["text"]
    assert changes["CC-13000"]["from"]["cadence"] == "semiannual" and changes["CC-13000"]["to"]["cadence"] == "annual"
    res = run("catalog", "diff", "--from", "pre-2020", "--to", "2020-12-11", "--format", "json")
    changes = {c["ref_id"]: c for c in json.loads(res.stdout)["changes"]}
    assert changes["CC-11000.4"]["change"] == "added"
    assert changes["CC-19000.9"]["change"] == "reworded"
    assert changes["CC-20000.4"]["from"]["obligation"] == "recommended"
    res = run("catalog", "diff", "--framework", "internal-control", "--from", "pre-amendment", "--to", "amended",
              "--format", "json")
    changes = {c["ref_id"]: c for c in json.loads(res.stdout)["changes"]}
    assert set(changes) == {"CC-20000.七", "CC-20000.八", "CC-20000.十一"}
    assert changes["CC-20000.八"]["moved_to"] == "CC-20000.七"


def test_cli_errors_are_clear():
    res = run("catalog", "show", "CC-99999.9")
    assert res.exit_code == 2 and "CC-99999.9" in res.output
    res = run("catalog", "diff", "--from", "nope", "--to", "2020-12-11")
    assert res.exit_code == 2 and "unknown version 'nope'" in res.output
    res = run("applicable", "--capital", "-5")
    assert res.exit_code == 2 and "capital" in res.output
    res = run("applicable", "--capital", "100億", "--as-of", "113/13/01")
    assert res.exit_code == 2 and "--as-of" in res.output


def test_applicable_cli_json_with_flags_and_profile(tmp_path):
    res = run("applicable", "--capital", "250億", "--no-internet-orders", "--as-of", "民國113年6月30日",
              "--format", "json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["tier"] == 1 and doc["as_of"] == "2024-06-30"
    na = {e["ref_id"]: e for e in doc["not_applicable"]}
    assert "CC-11000.1" in na and "internet-order" in na["CC-11000.1"]["reason_en"]
    p = tmp_path / "b.yaml"
    p.write_text("name: 小型證券\ncapital: 39.99億\ninternet_orders: true\n", encoding="utf-8")
    doc = json.loads(run("applicable", "--profile", str(p), "--as-of", "2026-11-24", "--format", "json").stdout)
    assert doc["tier"] == 4 and doc["broker"] == "小型證券"
    assert all(e["ref_id"] for e in doc["applicable"]) and doc["duties"]
    res = run("applicable", "--profile", str(p), "--as-of", "2026-11-24", "--lang", "en")
    assert res.exit_code == 0 and "tier 4" in res.stdout


def test_calendar_cli_formats(tmp_path):
    p = tmp_path / "b.yaml"
    p.write_text("capital: 250億\n", encoding="utf-8")
    doc = json.loads(run("calendar", "--profile", str(p), "--from", "2025-01-01", "--to", "114/12/31",
                         "--format", "json").stdout)
    assert doc["to"] == "2025-12-31" and doc["occurrences"]
    assert all(o["ref_ids"] and o["due"] for o in doc["occurrences"])
    ics = tmp_path / "c.ics"
    res = run("calendar", "--profile", str(p), "--from", "2025-01-01", "--to", "2025-12-31", "--format", "ics",
              "--out", str(ics))
    assert res.exit_code == 0 and ics.read_bytes().startswith(b"BEGIN:VCALENDAR")
    res = run("calendar", "--profile", str(p), "--from", "2025-12-31", "--to", "2025-01-01")
    assert res.exit_code == 2 and "before" in res.output
