"""Reports from the database, on the web, over the API and from `ccinspect report`: contents (PDF read back
with pdftotext, XLSX with openpyxl), scope (a broker sees only its own), the statement draft and bad input."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess

import pytest
from django.test import Client
from openpyxl import load_workbook
from typer.testing import CliRunner

from ccinspect.cli import app
from ccinspect.web.inspections import services as svc

from .conftest import deficient_with_finding, login_client, token_for

needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")


def zh(client: Client) -> Client:
    """Traditional Chinese, the application's default (the test settings use English)."""
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hant"
    return client


def pdf_text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return "".join(out.split())


@pytest.fixture
def signed(world):
    w = world
    w.item, w.ev, w.f = deficient_with_finding(w)
    w.f.title = "密碼最小長度不足"
    w.f.save()
    for item in w.insp_a.items.filter(assessable=True, result="not_assessed"):
        svc.set_item_result(w.officer, item, "compliant")
    svc.submit(w.officer, w.insp_a)
    svc.sign_off(w.auditor, w.insp_a, "覆核完成")
    return w


@needs_poppler
def test_inspection_report_pdf_from_the_web(signed):
    w = signed
    c = zh(login_client(Client(), w.officer))
    resp = c.get(f"/reports/inspections/{w.insp_a.pk}/pdf/")
    assert resp["Content-Type"] == "application/pdf" and "attachment" in resp["Content-Disposition"]
    text = pdf_text(resp.content)
    for s in ["資通安全檢查報告", "BrokerA", w.item.ref_id, "密碼最小長度不足", "proof.txt", w.ev.sha256[:32],
              "覆核簽核", "覆核完成", "重大"]:
        assert s in text, s


def test_inspection_report_xlsx_and_html(signed):
    w = signed
    c = zh(login_client(Client(), w.auditor))
    wb = load_workbook(io.BytesIO(c.get(f"/reports/inspections/{w.insp_a.pk}/xlsx/").content))
    items = {r[0]: r for r in wb["檢查項目及結果"].iter_rows(min_row=2, values_only=True)}
    assert items[w.item.ref_id][2] == "缺失" and items[w.item.ref_id][3] == "gap"
    assert [r[3] for r in wb["佐證資料"].iter_rows(min_row=2, values_only=True)] == [w.ev.sha256]
    signoffs = [r[:2] for r in wb["簽核"].iter_rows(min_row=2, values_only=True)]
    assert [s[0] for s in signoffs] == ["建立", "送覆核", "覆核簽核"] and signoffs[2][1] == "auditor_a"
    html = c.get(f"/reports/inspections/{w.insp_a.pk}/html/").content.decode()
    assert "Broker A" in html and w.ev.sha256 in html
    c.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Cybersecurity inspection report" in c.get(f"/reports/inspections/{w.insp_a.pk}/html/").content.decode()
    assert c.get(f"/reports/inspections/{w.insp_a.pk}/doc/").status_code == 404


def test_reports_stay_within_the_broker(signed):
    w = signed
    b = zh(login_client(Client(), w.officer_b))
    for fmt in ("html", "pdf", "xlsx"):
        assert b.get(f"/reports/inspections/{w.insp_a.pk}/{fmt}/").status_code == 404
    wb = load_workbook(io.BytesIO(b.get("/reports/tracking.xlsx").content))
    assert wb.active.max_row == 1  # B has no findings; A's are not there
    assert b.get(f"/reports/tracking.xlsx?broker={w.a.pk}").status_code == 404
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(w.officer_b)}")
    assert api.get(f"/api/reports/inspections/{w.insp_a.pk}?format=xlsx").status_code == 404
    reg = login_client(Client(), w.regulator)
    assert reg.get(f"/reports/inspections/{w.insp_a.pk}/pdf/").status_code == 200
    rows = list(load_workbook(io.BytesIO(reg.get("/reports/tracking.xlsx").content)).active.iter_rows(
        min_row=2, values_only=True))
    assert [r[0] for r in rows] == [f"F-{w.f.pk}"] and rows[0][1] == "Broker A"


def test_tracking_list_and_api(signed):
    w = signed
    c = zh(login_client(Client(), w.officer))
    ws = load_workbook(io.BytesIO(c.get("/reports/tracking.xlsx").content))["缺失改善追蹤表"]
    head = [x.value for x in ws[1]]
    row = dict(zip(head, next(ws.iter_rows(min_row=2, values_only=True)), strict=True))
    assert row["編號"] == f"F-{w.f.pk}" and row["缺失"] == "密碼最小長度不足" and row["狀態"] == "未處理"
    assert row["改善期限"] == dt.datetime(2025, 7, 31) and row["最新進度"] == "open: raised"
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(w.officer)}")
    resp = api.get(f"/api/reports/inspections/{w.insp_a.pk}?format=xlsx&lang=en")
    assert resp.status_code == 200 and "Summary" in load_workbook(io.BytesIO(resp.content)).sheetnames
    assert api.get(f"/api/reports/inspections/{w.insp_a.pk}?format=doc").status_code == 400
    t = load_workbook(io.BytesIO(api.get("/api/reports/tracking").content)).active
    assert t.max_row == 2


@needs_poppler
def test_statement_draft(signed):
    w = signed
    c = zh(login_client(Client(), w.officer))
    assert "CC-12000.6" in c.get("/reports/statement/").content.decode()
    q = {"broker": w.a.pk, "year": 2025, "ciso_name": "李資安", "ciso_title": "資安長", "chairman_name": "張董事",
         "president_name": "林總經理", "chief_auditor_name": "王稽核", "board_date": "2026-03-10", "format": "html"}
    html = c.get("/reports/statement/", q).content.decode()
    assert "資訊安全整體執行情形聲明書" in html and "2026-03-31" in html and "李資安" in html
    assert "本年度辦理查核 1 次" in html and "查核發現缺失共 1 項" in html
    text = pdf_text(c.get("/reports/statement/", q | {"format": "pdf"}).content)
    assert "張董事" in text and "民國115年3月10日董事會通過" in text
    bad = c.get("/reports/statement/", q | {"chairman_name": ""})
    assert bad.status_code == 400 and "missing: chairman" in bad.content.decode()
    late = c.get("/reports/statement/", q | {"board_date": "2026-04-15"})
    assert late.status_code == 400 and "after the disclosure deadline 2026-03-31" in late.content.decode()
    assert c.get("/reports/statement/", q | {"broker": w.b.pk}).status_code == 404


@needs_poppler
def test_cli_report(signed, tmp_path):
    w = signed
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    runner = CliRunner()
    out = tmp_path / "r.pdf"
    res = runner.invoke(app, ["report", "inspection", str(w.insp_a.pk), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "資通安全檢查報告" in pdf_text(out.read_bytes())
    res = runner.invoke(app, ["report", "inspection", str(w.insp_a.pk), "-f", "xlsx", "--lang", "en",
                              "-o", str(tmp_path / "r.xlsx")])
    assert res.exit_code == 0 and "Checklist and results" in load_workbook(tmp_path / "r.xlsx").sheetnames
    res = runner.invoke(app, ["report", "tracking", "--broker", "Broker A", "-o", str(tmp_path / "t.xlsx")])
    assert res.exit_code == 0 and load_workbook(tmp_path / "t.xlsx").active.max_row == 2
    res = runner.invoke(app, ["report", "statement", "--broker", str(w.a.pk), "--year", "2025", "--ciso", "李資安/資安長",
                              "--chairman", "張董事", "--president", "林總經理", "--auditor", "王稽核",
                              "--board-date", "2026-03-10", "-o", str(tmp_path / "s.pdf")])
    assert res.exit_code == 0, res.output
    assert "disclosure deadline 2026-03-31" in res.output and "李資安" in pdf_text((tmp_path / "s.pdf").read_bytes())
    # bad input: a clear message, nothing written
    for args, message in [
        (["report", "inspection", "999999", "-o", str(tmp_path / "x.pdf")], "no inspection 999999"),
        (["report", "tracking", "--broker", "Nobody", "-o", str(tmp_path / "x.xlsx")], "no broker 'Nobody'"),
        (["report", "inspection", str(w.insp_a.pk), "-o", str(tmp_path / "missing" / "x.pdf")], "-o: folder"),
        (["report", "statement", "--broker", "Broker A", "--ciso", "a", "--chairman", "b", "--president", "c",
          "--auditor", "d", "--board-date", "2026-13-01", "-o", str(tmp_path / "x.pdf")], "is not a date"),
        (["report", "statement", "--broker", "Broker A", "--year", "2025", "--ciso", "a", "--chairman", "b",
          "--president", "c", "--auditor", "d", "--board-date", "2025-11-01", "-o", str(tmp_path / "x.pdf")],
         "after the fiscal year ends"),
    ]:
        res = runner.invoke(app, args)
        assert res.exit_code == 2 and message in " ".join(res.output.split()), (args, res.output)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.pdf", "r.xlsx", "s.pdf", "t.xlsx"]
