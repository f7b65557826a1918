"""The reports from plain data: deadlines and validation, and what the HTML, the PDF (read back with poppler's
pdftotext) and the XLSX (read back with openpyxl) contain, in Chinese and English."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess

import pytest
from openpyxl import load_workbook

from ccinspect.reports import (
    ReportError,
    Signatory,
    disclosure_deadline,
    inspection_html,
    inspection_xlsx,
    pdf_from_html,
    statement_html,
    tracking_xlsx,
)
from ccinspect.reports.render import _no_network

from . import sample

needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")


def pdf_text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


@pytest.mark.parametrize("fye, deadline", [
    (dt.date(2024, 12, 31), dt.date(2025, 3, 31)),
    (dt.date(2024, 6, 30), dt.date(2024, 9, 30)),
    (dt.date(2024, 9, 30), dt.date(2024, 12, 31)),  # a month's end gives the third month's end
    (dt.date(2023, 11, 30), dt.date(2024, 2, 29)),  # leap year
    (dt.date(2024, 11, 30), dt.date(2025, 2, 28)),
    (dt.date(2024, 3, 15), dt.date(2024, 6, 15)),
])
def test_disclosure_deadline_is_three_months_after_the_fiscal_year_end(fye, deadline):
    assert disclosure_deadline(fye) == deadline


def test_statement_validation():
    assert sample.statement().deadline == dt.date(2025, 3, 31)
    with pytest.raises(ReportError, match="exactly four signatories"):
        sample.statement(signatories=[Signatory("ciso", "a"), Signatory("chairman", "b"), Signatory("president", "c")])
    with pytest.raises(ReportError, match="after the fiscal year ends"):
        sample.statement(board_approval_date=dt.date(2024, 12, 20))
    with pytest.raises(ReportError, match="after the disclosure deadline 2025-03-31"):
        sample.statement(board_approval_date=dt.date(2025, 4, 2))


def test_inspection_report_validation():
    r = sample.report()
    with pytest.raises(ReportError, match="no assessable checklist item"):
        type(r)(**{**r.__dict__, "items": [i for i in r.items if not i.assessable]})
    with pytest.raises(ReportError, match="ends .* before it starts"):
        type(r)(**{**r.__dict__, "period_end": dt.date(2025, 4, 1)})


def test_inspection_html_has_scope_items_evidence_findings_signoffs():
    html = inspection_html(sample.report())
    for text in ["資通安全檢查報告", "示範證券股份有限公司", "2025-05-01 – 2025-05-31", "CC-18000.3.f", "密碼長度至少六碼",
                 "本公司無遠端連線", sample.SHA, "密碼原則截圖.png", "將密碼最小長度調整為 10 碼", "王建國", "覆核完成",
                 "2025-06-02 00:30"]:  # 2025-06-01 16:30 UTC is past midnight in Taipei
        assert text in html, text
    assert 'id="count-deficient">1<' in html
    assert "<script" not in inspection_html(sample.report()).lower()
    en = inspection_html(sample.report(), "en")
    assert "Cybersecurity inspection report" in en and "Lock the account after three failures." in en


def test_html_is_escaped():
    r = sample.report()
    r.broker = "<script>alert(1)</script>"
    assert "<script>alert" not in inspection_html(r) and "&lt;script&gt;" in inspection_html(r)


@needs_poppler
def test_inspection_pdf_contains_the_chinese_text():
    text = pdf_text(pdf_from_html(inspection_html(sample.report())))
    squashed = "".join(text.split())
    for s in ["資通安全檢查報告", "示範證券股份有限公司", "檢查範圍", "CC-18000.3.f", "密碼長度設定不足", "缺失及改善情形",
              "F-7", "重大", "逾期", "覆核簽核", "王建國", "1/1"]:
        assert s in squashed, s
    assert sample.SHA[:40] in squashed  # the digest may wrap; its characters are all there
    en = "".join(pdf_text(pdf_from_html(inspection_html(sample.report(), "en"))).split())
    assert "Cybersecurityinspectionreport" in en and "Signedoff" in en


@needs_poppler
def test_statement_pdf():
    text = "".join(pdf_text(pdf_from_html(statement_html(sample.statement()))).split())
    for s in ["資訊安全整體執行情形聲明書", "示範證券股份有限公司", "民國113年度", "董事長", "張董事", "總經理", "林總經理",
              "資訊安全最高主管", "李資安", "稽核主管", "王稽核", "民國114年3月12日董事會通過", "2025-03-31",
              "查核發現缺失共20項", "已改善結案18項", "資安事件3件", "CC-12000.6"]:
        assert s in text, s
    assert "草" in text and "稿" in text  # the rotated DRAFT watermark
    pending = "".join(pdf_text(pdf_from_html(statement_html(sample.statement(board_approval_date=None)))).split())
    assert "尚待提報董事會通過" in pending
    en = pdf_text(pdf_from_html(statement_html(sample.statement(), "en")))
    assert "Statement on the Overall Implementation of Information Security" in " ".join(en.split())


def test_reports_fetch_nothing_from_the_network():
    with pytest.raises(ReportError, match="no remote resources"):
        _no_network("https://fonts.googleapis.com/css?family=Noto+Sans+TC")
    assert "@import" not in inspection_html(sample.report()) and "url(" not in inspection_html(sample.report())


def test_inspection_xlsx():
    wb = load_workbook(io.BytesIO(inspection_xlsx(sample.report())))
    assert wb.sheetnames == ["檢查結果摘要", "檢查項目及結果", "佐證資料", "缺失及改善情形", "簽核"]
    summary = {r[0]: r[1] for r in wb["檢查結果摘要"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert summary["證券商"] == "示範證券股份有限公司" and summary["資安分級"] == 2
    assert summary["缺失"] == 1 and summary["扣分合計"] == 5
    items = list(wb["檢查項目及結果"].iter_rows(min_row=2, values_only=True))
    assert items[2][:4] == ("CC-18000.3.f", "密碼長度至少六碼並定期更換。", "缺失", "密碼長度設定不足")
    assert items[3][2:4] == ("不適用", "本公司無遠端連線")
    ev = list(wb["佐證資料"].iter_rows(min_row=2, values_only=True))
    assert ev[0][3] == sample.SHA and ev[0][6] == dt.datetime(2025, 6, 2, 0, 30)  # Taipei time
    f = list(wb["缺失及改善情形"].iter_rows(min_row=2, values_only=True))
    assert f[0][:5] == ("F-7", "CC-18000.3.f", "密碼最小長度不足", "重大", 5)
    so = list(wb["簽核"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in so] == ["建立", "覆核簽核"]


def test_tracking_xlsx():
    wb = load_workbook(io.BytesIO(tracking_xlsx(sample.tracking())))
    ws = wb["缺失改善追蹤表"]
    head = [c.value for c in ws[1]]
    rows = [dict(zip(head, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert [r["編號"] for r in rows] == ["F-7", "F-8"]
    assert rows[0]["逾期"] == "逾期" and rows[0]["缺失說明"] == "AD 密碼原則最小長度為 6 碼"
    assert rows[1]["狀態"] == "已結案" and rows[1]["結案日"] == dt.datetime(2025, 6, 11, 0, 5)
    assert rows[1]["扣分"] == 1.5
    assert ws.cell(row=2, column=1).font.color.rgb.endswith("B3261E")  # the overdue row is red
    assert ws.auto_filter.ref == "A1:Q3" and ws.freeze_panes == "A2"
    info = {r[0]: r[1] for r in wb["說明"].iter_rows(values_only=True)}
    assert info["筆數"] == 2 and info["逾期"] == 1 and "CC-21000.2" in wb["說明"]["A2"].value
    en = load_workbook(io.BytesIO(tracking_xlsx(sample.tracking(), "en")))
    assert en.sheetnames == ["Deficiency and remediation trac", "Info"]
