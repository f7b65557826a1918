"""The attestation questionnaire: template → filled in (YAML and XLSX, as a user would) → judged."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import yaml
from openpyxl import load_workbook
from typer.testing import CliRunner

from ccinspect.attestation import load_topics
from ccinspect.attestation.questionnaire import judge, read, write_template
from ccinspect.cli import app
from ccinspect.core.errors import InputError

AS_OF = dt.date(2025, 6, 30)
runner = CliRunner()


def fill_yaml(path, answers: dict[tuple[str, str], object]):
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    for it in doc["items"]:
        key = (it["topic"], it["item"])
        if key in answers:
            it["answer"] = answers[key]
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


GOOD = {
    ("iso27001", "q1"): "是", ("iso27001", "q2"): "BSI, IS 123456",
    ("iso27001", "doc:certificate"): "cert.pdf", ("iso27001", "doc:scope"): "soa.pdf",
    ("iso27001", "expiry"): "2026-03-31",
    ("iso27001", "prepared_by"): "王小明", ("iso27001", "reviewer"): "陳資安長", ("iso27001", "reviewed_on"): "2025-06-01",
}


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "cert.pdf").write_bytes(b"%PDF-1.4\n")
    (tmp_path / "soa.pdf").write_bytes(b"%PDF-1.4\n")
    return tmp_path


def test_template_covers_every_topic_in_both_languages(tmp_path):
    zh = write_template(tmp_path / "q.yaml")
    en = write_template(tmp_path / "q_en.yaml", lang="en")
    items_zh = yaml.safe_load(zh.read_text(encoding="utf-8"))["items"]
    items_en = yaml.safe_load(en.read_text(encoding="utf-8"))["items"]
    assert {i["topic"] for i in items_zh} == {t.id for t in load_topics().topics}
    assert len(items_zh) == len(items_en)
    q = next(i for i in items_zh if i["topic"] == "iso27001" and i["item"] == "expiry")
    assert "證書有效期限" in q["question"]
    assert any("Certificate valid until" in i["question"] for i in items_en)


def test_complete_attestation_passes(folder):
    write_template(folder / "q.yaml", topic_ids=["iso27001"])
    fill_yaml(folder / "q.yaml", GOOD)
    [c] = judge(read(folder / "q.yaml"), AS_OF, base=folder, file="q.yaml")
    assert c.status.value == "pass", c.facts
    assert "CC-12000.8" in c.ref_ids


@pytest.mark.parametrize("change, expect", [
    ({("iso27001", "expiry"): "2025-01-31"}, "expired"),
    ({("iso27001", "q1"): "否"}, "answered no"),
    ({("iso27001", "doc:certificate"): "missing.pdf"}, "not found"),
    ({("iso27001", "doc:certificate"): "../etc/passwd"}, "not found"),
    ({("iso27001", "reviewer"): "王小明"}, "is the preparer"),
    ({("iso27001", "reviewed_on"): "2025-07-01"}, "after the as-of date"),
])
def test_findings(folder, change, expect):
    write_template(folder / "q.yaml", topic_ids=["iso27001"])
    fill_yaml(folder / "q.yaml", GOOD | change)
    [c] = judge(read(folder / "q.yaml"), AS_OF, base=folder, file="q.yaml")
    assert c.status.value == "fail"
    assert any(expect in f.message for f in c.facts), [f.message for f in c.facts]
    assert all(f.line for f in c.facts)


def test_unsigned_is_manual_not_pass(folder):
    write_template(folder / "q.yaml", topic_ids=["iso27001"])
    fill_yaml(folder / "q.yaml", {k: v for k, v in GOOD.items() if k[1] != "reviewer"})
    [c] = judge(read(folder / "q.yaml"), AS_OF, base=folder, file="q.yaml")
    assert c.status.value == "manual" and "reviewer" in c.summary


def test_interval_on_dated_answers(folder):
    write_template(folder / "q.yaml", topic_ids=["social_engineering"])
    fill_yaml(folder / "q.yaml", {("social_engineering", "q1"): "2023-05-01"})
    [c] = judge(read(folder / "q.yaml"), AS_OF, base=folder, file="q.yaml")
    assert any("more than 12 months" in f.message for f in c.facts)


def test_xlsx_round_trip_keeps_user_text_as_text(folder):
    path = folder / "q.xlsx"
    write_template(path, topic_ids=["iso27001"], lang="en")
    wb = load_workbook(path)
    ws = wb["attestation"]
    answers = GOOD | {("iso27001", "q2"): "=HYPERLINK(\"http://x\")"}
    for row in ws.iter_rows(min_row=2):
        key = (row[0].value, row[1].value)
        if key in answers:
            row[3].value = answers[key]
            if isinstance(answers[key], str) and answers[key].startswith("="):
                row[3].data_type = "s"  # as a user typing text with a leading apostrophe
    wb.save(path)
    got = read(path)
    assert got["iso27001"].answers["q2"] == "=HYPERLINK(\"http://x\")"
    [c] = judge(got, AS_OF, base=folder, file="q.xlsx")
    assert c.status.value == "pass", c.facts
    # the template itself stores no formula
    assert all(cell.data_type != "f" for row in load_workbook(path)["attestation"].iter_rows() for cell in row)


def test_unknown_item_is_located(folder):
    write_template(folder / "q.yaml", topic_ids=["iso27001"])
    doc = yaml.safe_load((folder / "q.yaml").read_text(encoding="utf-8"))
    doc["items"][2]["item"] = "q9"
    (folder / "q.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError) as ei:
        read(folder / "q.yaml")
    assert (ei.value.file, ei.value.line, ei.value.field) == ("q.yaml", 3, "item")
    assert "未知之項目" in ei.value.text("zh")


def test_cli_template_and_check(folder):
    out = folder / "q.yaml"
    res = runner.invoke(app, ["attest", "template", "--out", str(out), "--topic", "iso27001"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["attest", "check", str(out), "--as-of", "2025-06-30", "--format", "json"])
    assert res.exit_code == 1
    assert json.loads(res.stdout)["checks"][0]["status"] == "manual"
    fill_yaml(out, GOOD)
    res = runner.invoke(app, ["attest", "check", str(out), "--as-of", "2025-06-30"])
    assert res.exit_code == 0, res.output
    (folder / "bad.yaml").write_text("format: x\n", encoding="utf-8")
    res = runner.invoke(app, ["attest", "check", str(folder / "bad.yaml")])
    assert res.exit_code == 2


def test_inspection_reads_attestations_back_into_results(tmp_path):
    from tests.checks.test_rules_and_inspect import PROFILE

    from ccinspect.applicability import load_profile
    from ccinspect.checks.runner import inspect

    ev = tmp_path / "evidence"
    (ev / "attestation").mkdir(parents=True)
    for f in ("cert.pdf", "soa.pdf"):
        (ev / "attestation" / f).write_bytes(b"%PDF-1.4\n")
    write_template(ev / "attestation" / "iso.yaml", topic_ids=["iso27001"])
    fill_yaml(ev / "attestation" / "iso.yaml", GOOD)
    (ev / "attestation" / "broken.yaml").write_text("format: nope\n", encoding="utf-8")
    (ev / "stray.txt").write_text("x", encoding="utf-8")
    res = inspect(load_profile(PROFILE), ev, AS_OF)
    r = res.get("CC-12000.8")
    assert r is not None and r.status.value == "pass", r and r.summary
    assert "attestation.iso27001" in r.summary
    listed = {e["path"]: e for e in res.evidence}
    assert listed["attestation/iso.yaml"]["analyzers"] == ["attestation"]
    assert "error" in listed["attestation/broken.yaml"]
    assert "warning" in listed["stray.txt"]  # files no analyzer reads stay listed with a warning
    # a requirement no analyzer serves and no questionnaire answers is still manual
    assert res.get("CC-16000.1").status.value == "manual"
