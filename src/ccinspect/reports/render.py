"""HTML (and from it PDF, with WeasyPrint) and XLSX (openpyxl) for the reports in `model.py`.

The PDF uses the fonts installed on the machine by family name (Noto Sans CJK TC from Debian's
fonts-noto-cjk); nothing is fetched from the network: the URL fetcher refuses anything but data: URLs."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from html import escape
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ccinspect.core.dates import roc_year
from ccinspect.core.safe_cells import text_cells

from .labels import KINDS, RESULTS, SEVERITY, SIGNATORIES, SIGNOFF_ROLES, STATUS, of, t
from .model import InspectionReport, ReportError, Statement, TrackingList

TAIPEI = ZoneInfo("Asia/Taipei")
FONTS = '"Noto Sans CJK TC", "Noto Sans TC", "Noto Serif CJK TC", sans-serif'

CSS = """
@page { size: A4; margin: 16mm 12mm 18mm 12mm;
  @bottom-center { content: counter(page) " / " counter(pages); font-size: 8pt; color: #555; font-family: %(fonts)s; } }
@page landscape { size: A4 landscape; }
html { font-family: %(fonts)s; font-size: 9pt; color: #1d1d1f; }
body { margin: 0; }
h1 { font-size: 16pt; margin: 0 0 4pt; color: #0b5394; }
h2 { font-size: 11.5pt; margin: 12pt 0 4pt; border-bottom: 1.5pt solid #0b5394; padding-bottom: 2pt; }
table { border-collapse: collapse; width: 100%%; margin-bottom: 6pt; }
th, td { border: 0.5pt solid #b8bec6; padding: 2.5pt 4pt; text-align: left; vertical-align: top; }
th { background: #e8eef6; font-weight: bold; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; }
table.meta th { width: 22%%; }
.ref { font-family: "DejaVu Sans Mono", monospace; white-space: nowrap; color: #0b5394; }
.hash { font-family: "DejaVu Sans Mono", monospace; font-size: 6.5pt; word-break: break-all; }
.heading td { background: #f4f6f9; font-weight: bold; }
.r-compliant { color: #1e7e34; } .r-deficient { color: #b3261e; font-weight: bold; }
.r-not_applicable, .r-not_assessed, .muted { color: #5f6368; }
.overdue { color: #b3261e; font-weight: bold; }
.num { text-align: right; }
.draft { position: fixed; top: 40%%; left: 18%%; font-size: 90pt; color: rgba(179, 38, 30, 0.10);
         transform: rotate(-30deg); }
.statement { font-size: 11pt; line-height: 1.7; }
.statement h1 { text-align: center; font-size: 17pt; color: #1d1d1f; }
.statement .broker { text-align: center; font-size: 13pt; margin-bottom: 10pt; }
.statement .point { padding-left: 2.2em; text-indent: -2.2em; margin: 3pt 0; }
.statement .point span { display: inline-block; width: 2.2em; text-indent: 0; }
.statement table { font-size: 9pt; line-height: 1.3; }
.signatures { display: flex; flex-wrap: wrap; margin-top: 16pt; }
.signatures div { width: 50%%; height: 52pt; }
.signatures .line { display: inline-block; width: 38mm; border-bottom: 0.7pt solid #333; }
.deadline { border: 1pt solid #b3261e; padding: 4pt 8pt; margin: 8pt 0; }
"""


def _css(lang: str) -> str:
    return CSS % {"fonts": FONTS}


def local(value: dt.datetime | None) -> dt.datetime | None:
    """Aware datetimes in Asia/Taipei, naive (for Excel) — naive input is taken as Taipei time already."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(TAIPEI)
    return value.replace(tzinfo=None)


def fmt_dt(value: dt.datetime | None) -> str:
    v = local(value)
    return v.strftime("%Y-%m-%d %H:%M") if v else ""


def fmt_d(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def _e(value) -> str:
    return escape("" if value is None else str(value))


def _page(title: str, body: str, lang: str, extra: str = "") -> str:
    html_lang = "en" if lang == "en" else "zh-Hant-TW"
    return (f'<!doctype html><html lang="{html_lang}"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f"<style>{_css(lang)}</style></head><body>{extra}{body}</body></html>")


def _pick(zh: str, en: str, lang: str) -> str:
    return (en or zh) if lang == "en" else (zh or en)


def _points(value) -> str:
    d = Decimal(str(value))
    return f"{d.normalize():f}" if d == d.to_integral() else f"{d:.2f}"


# ---- the inspection report ------------------------------------------------------------------------------

def inspection_html(r: InspectionReport, lang: str = "zh") -> str:
    c = r.counts()
    title = _pick(r.title, r.title_en, lang)
    meta = [
        ("broker", _e(r.broker)), ("tier", _e(r.tier)), ("inspection", _e(title)),
        ("period", f"{fmt_d(r.period_start)} – {fmt_d(r.period_end)}"), ("as_of", fmt_d(r.as_of)),
        ("due", fmt_d(r.due)), ("framework", _e(r.framework_version)), ("status", _e(of(STATUS, r.status, lang))),
        ("generated", fmt_dt(r.generated_at)),
    ]
    out = [f"<h1>{t('report', lang)}</h1>", f'<p class="muted">{_e(r.broker)} · {_e(title)}</p>',
           f"<h2>{t('scope', lang)}</h2><table class=meta>"]
    out += [f"<tr><th>{t(k, lang)}</th><td>{v}</td></tr>" for k, v in meta]
    out.append("</table>")
    out.append(f"<h2>{t('summary', lang)}</h2><table><thead><tr>"
               + "".join(f"<th>{of(RESULTS, k, lang)}</th>" for k in RESULTS)
               + f"<th>{t('findings', lang)}</th><th>{t('total_points', lang)}</th></tr></thead><tr>"
               + "".join(f'<td class="num" id="count-{k}">{c.get(k, 0)}</td>' for k in RESULTS)
               + f'<td class="num">{len(r.findings)}</td><td class="num">{_points(r.points())}</td></tr></table>')
    out.append(f"<h2>{t('checklist', lang)}</h2><table><thead><tr><th>{t('requirement', lang)}</th>"
               f"<th style='width:50%'></th><th>{t('result', lang)}</th><th>{t('notes', lang)}</th>"
               f"<th>{t('automated', lang)}</th></tr></thead>")
    for i in r.items:
        text = _e(_pick(i.text, i.text_en, lang))
        pad = f"padding-left:{4 + 8 * max(0, i.depth - 1)}pt"
        if not i.assessable:
            out.append(f"<tr class=heading><td class=ref>{_e(i.ref_id)}</td><td colspan=4 style='{pad}'>"
                       f"{text}</td></tr>")
            continue
        note = _e(i.na_reason if i.result == "not_applicable" and i.na_reason else i.notes)
        out.append(f"<tr><td class=ref>{_e(i.ref_id)}</td><td style='{pad}'>{text}</td>"
                   f"<td class='r-{_e(i.result)}'>{of(RESULTS, i.result, lang)}</td><td>{note}</td>"
                   f"<td>{_e(i.automated_status)}</td></tr>")
    out.append("</table>")
    out.append(f"<h2>{t('evidence', lang)}</h2>")
    if r.evidence:
        out.append(f"<table><thead><tr><th>{t('requirement', lang)}</th><th>{t('file', lang)}</th>"
                   f"<th style='width:9%'>{t('kind', lang)}</th><th style='width:34%'>SHA-256</th><th>{t('size', lang)}</th>"
                   f"<th>{t('uploaded', lang)}</th></tr></thead>")
        for e in r.evidence:
            sup = f"<br><span class=muted>{t('supersedes', lang)}: {_e(e.supersedes)}</span>" if e.supersedes else ""
            out.append(f"<tr><td class=ref>{_e(e.ref_id)}</td><td>{_e(e.name)}{sup}</td>"
                       f"<td>{of(KINDS, e.kind, lang)}</td><td class=hash>{_e(e.sha256)}</td>"
                       f"<td class=num>{e.size}</td><td>{_e(e.uploaded_by)}<br>{fmt_dt(e.uploaded_at)}</td></tr>")
        out.append("</table>")
    else:
        out.append(f"<p class=muted>{t('none', lang)}</p>")
    out.append(f"<h2>{t('findings', lang)}</h2>")
    if r.findings:
        out.append(_findings_table(r.findings, lang))
    else:
        out.append(f"<p class=muted>{t('none', lang)}</p>")
    out.append(f"<h2>{t('signoffs', lang)}</h2><table><thead><tr><th>{t('role', lang)}</th>"
               f"<th>{t('name', lang)}</th><th>{t('title', lang)}</th><th>{t('at', lang)}</th>"
               f"<th>{t('note', lang)}</th></tr></thead>")
    for s in r.signoffs:
        out.append(f"<tr><td>{of(SIGNOFF_ROLES, s.role, lang)}</td><td>{_e(s.name)}</td><td>{_e(s.title)}</td>"
                   f"<td>{fmt_dt(s.at)}</td><td>{_e(s.note)}</td></tr>")
    if not r.signoffs:
        out.append(f"<tr><td colspan=5 class=muted>{t('none', lang)}</td></tr>")
    out.append("</table>")
    return _page(f"{t('report', lang)} · {r.broker} · {title}", "".join(out), lang)


def _findings_table(findings, lang: str) -> str:
    out = [f"<table><thead><tr><th>{t('id', lang)}</th><th>{t('requirement', lang)}</th><th>{t('finding', lang)}</th>"
           f"<th>{t('severity', lang)}</th><th>{t('points', lang)}</th><th>{t('owner', lang)}</th>"
           f"<th>{t('due_date', lang)}</th><th>{t('plan', lang)}</th><th>{t('status', lang)}</th></tr></thead>"]
    for f in findings:
        late = f" <span class=overdue>{t('overdue', lang)}</span>" if f.overdue else ""
        closed = f"<br>{fmt_dt(f.closed_at)}" if f.closed_at else ""
        out.append(f"<tr><td>{_e(f.id)}</td><td class=ref>{_e(f.ref_id)}</td><td>{_e(f.title)}</td>"
                   f"<td>{of(SEVERITY, f.severity, lang)}</td><td class=num>{_points(f.deduction_points)}</td>"
                   f"<td>{_e(f.owner)}</td><td>{fmt_d(f.due_date)}</td><td>{_e(f.remediation_plan)}</td>"
                   f"<td>{of(STATUS, f.status, lang)}{late}{closed}</td></tr>")
    out.append("</table>")
    return "".join(out)


def _no_network(url: str, *args, **kwargs):
    if url.startswith("data:"):
        from weasyprint.urls import default_url_fetcher

        return default_url_fetcher(url, *args, **kwargs)
    raise ReportError(f"the report refers to {url!r}; reports use local fonts and no remote resources")


def pdf_from_html(html: str) -> bytes:
    """The PDF of a report page (WeasyPrint). Fonts come from the machine (fontconfig), never the network."""
    from weasyprint import HTML

    return HTML(string=html, url_fetcher=_no_network).write_pdf()


# ---- XLSX -----------------------------------------------------------------------------------------------

HEAD_FONT = Font(bold=True, color="FFFFFF")
HEAD_FILL = PatternFill("solid", fgColor="0B5394")
RED = Font(color="B3261E", bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")


def _sheet(ws, headers: list[str], rows: list[list], widths: list[int]) -> None:
    ws.append(headers)
    for cell in ws[1]:
        cell.font, cell.fill, cell.alignment = HEAD_FONT, HEAD_FILL, Alignment(vertical="center", wrap_text=True)
    for row in rows:
        ws.append(row)
    for n, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(n)].width = w
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = WRAP
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"


def _save(wb: Workbook) -> bytes:
    for ws in wb.worksheets:  # the app writes no formulas: any "=..." string is user text and stays text
        text_cells(ws)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _finding_rows(findings, lang: str, *, wide: bool) -> list[list]:
    rows = []
    for f in findings:
        base = [f.id]
        if wide:
            base += [f.broker, f.inspection, f.period]
        base += [f.ref_id, f.title]
        if wide:
            base += [f.description]
        base += [of(SEVERITY, f.severity, lang), float(Decimal(str(f.deduction_points))), f.owner, f.due_date,
                 f.remediation_plan, of(STATUS, f.status, lang), local(f.closed_at),
                 t("overdue", lang) if f.overdue else ""]
        if wide:
            base += [local(f.raised_at), f.last_note]
        rows.append(base)
    return rows


def _finding_headers(lang: str, *, wide: bool) -> tuple[list[str], list[int]]:
    h = [t("id", lang)]
    w = [8]
    if wide:
        h += [t("broker", lang), t("inspection", lang), t("period", lang)]
        w += [22, 26, 22]
    h += [t("requirement", lang), t("finding", lang)]
    w += [16, 30]
    if wide:
        h += [t("description", lang)]
        w += [30]
    h += [t("severity", lang), t("points", lang), t("owner", lang), t("due_date", lang), t("plan", lang),
          t("status", lang), t("closed_at", lang), t("overdue", lang)]
    w += [8, 7, 12, 12, 32, 11, 16, 7]
    if wide:
        h += [t("raised", lang), t("last_note", lang)]
        w += [16, 30]
    return h, w


def _mark_overdue(ws, col: int) -> None:
    for row in ws.iter_rows(min_row=2):
        if row[col - 1].value:
            for cell in row:
                cell.font = RED


def inspection_xlsx(r: InspectionReport, lang: str = "zh") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = t("summary", lang)[:31]
    title = _pick(r.title, r.title_en, lang)
    ws.append([t("report", lang)])
    ws["A1"].font = Font(bold=True, size=14)
    c = r.counts()
    for key, value in [("broker", r.broker), ("tier", r.tier), ("inspection", title),
                       ("period", f"{fmt_d(r.period_start)} – {fmt_d(r.period_end)}"), ("as_of", r.as_of),
                       ("due", r.due), ("framework", r.framework_version), ("status", of(STATUS, r.status, lang)),
                       ("generated", local(r.generated_at))]:
        ws.append([t(key, lang), value])
    ws.append([])
    for k in RESULTS:
        ws.append([of(RESULTS, k, lang), c.get(k, 0)])
    ws.append([t("findings", lang), len(r.findings)])
    ws.append([t("total_points", lang), float(r.points())])
    for row in ws.iter_rows(min_row=2):
        row[0].font = Font(bold=True)
        if isinstance(row[1].value, dt.date) and not isinstance(row[1].value, dt.datetime):
            row[1].number_format = "yyyy-mm-dd"
        elif isinstance(row[1].value, dt.datetime):
            row[1].number_format = "yyyy-mm-dd hh:mm"
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 22, 60

    items = wb.create_sheet(t("checklist", lang)[:31])
    _sheet(items, [t("requirement", lang), "", t("result", lang), t("notes", lang), t("automated", lang)],
           [[i.ref_id, _pick(i.text, i.text_en, lang),
             of(RESULTS, i.result, lang) if i.assessable else "",
             (i.na_reason if i.result == "not_applicable" and i.na_reason else i.notes) if i.assessable else "",
             i.automated_status] for i in r.items],
           [18, 80, 10, 30, 10])
    for row, i in zip(items.iter_rows(min_row=2), r.items, strict=True):
        if not i.assessable:
            for cell in row:
                cell.font = Font(bold=True)
        elif i.result == "deficient":
            row[2].font = RED

    ev = wb.create_sheet(t("evidence", lang)[:31])
    _sheet(ev, [t("requirement", lang), t("file", lang), t("kind", lang), "SHA-256", t("size", lang),
                t("uploaded", lang), t("at", lang), t("supersedes", lang), t("note", lang)],
           [[e.ref_id, e.name, of(KINDS, e.kind, lang), e.sha256, e.size, e.uploaded_by, local(e.uploaded_at),
             e.supersedes, e.note] for e in r.evidence],
           [16, 28, 12, 66, 10, 14, 16, 24, 24])

    fs = wb.create_sheet(t("findings", lang)[:31])
    h, w = _finding_headers(lang, wide=False)
    _sheet(fs, h, _finding_rows(r.findings, lang, wide=False), w)
    _mark_overdue(fs, len(h))

    so = wb.create_sheet(t("signoffs", lang)[:31])
    _sheet(so, [t("role", lang), t("name", lang), t("title", lang), t("at", lang), t("note", lang)],
           [[of(SIGNOFF_ROLES, s.role, lang), s.name, s.title, local(s.at), s.note] for s in r.signoffs],
           [14, 16, 20, 18, 40])
    return _save(wb)


def tracking_xlsx(tl: TrackingList, lang: str = "zh") -> bytes:
    """The tracking list (CC-21000.2): one row per finding; overdue rows in red; a second sheet says what it is."""
    wb = Workbook()
    ws = wb.active
    ws.title = t("tracking", lang)[:31]
    h, w = _finding_headers(lang, wide=True)
    _sheet(ws, h, _finding_rows(tl.findings, lang, wide=True), w)
    _mark_overdue(ws, h.index(t("overdue", lang)) + 1)
    info = wb.create_sheet(t("info", lang))
    for row in [[t("tracking", lang)], [t("tracking_basis", lang)], [t("broker", lang), tl.scope],
                [t("as_of_date", lang), tl.as_of], [t("generated", lang), local(tl.generated_at)],
                [t("count", lang), len(tl.findings)],
                [t("overdue", lang), sum(1 for f in tl.findings if f.overdue)]]:
        info.append(row)
    info["A1"].font = Font(bold=True, size=14)
    info["B4"].number_format = "yyyy-mm-dd"
    info["B5"].number_format = "yyyy-mm-dd hh:mm"
    info.column_dimensions["A"].width, info.column_dimensions["B"].width = 18, 60
    return _save(wb)


# ---- the annual statement -------------------------------------------------------------------------------

def _roc_date(d: dt.date | None, lang: str) -> str:
    if d is None:
        return "民國____年____月____日" if lang != "en" else "____-__-__"
    return d.isoformat() if lang == "en" else f"民國{roc_year(d.year)}年{d.month}月{d.day}日"


ZH_NUM = "一二三四五六七八九十"


def _numbered(points: list[str], start: int, lang: str) -> str:
    marks = [f"{n + 1}." if lang == "en" else f"{ZH_NUM[n]}、" for n in range(start, start + len(points))]
    return "".join(f"<p class=point><span>{m}</span>{p}</p>" for m, p in zip(marks, points, strict=True))


def statement_html(s: Statement, lang: str = "zh") -> str:
    raised = sum(c.findings for c in s.chapters)
    closed = sum(c.closed for c in s.chapters)
    done = sum(c.inspections for c in s.chapters)
    signed = sum(c.signed_off for c in s.chapters)
    fy = f"{fmt_d(s.fiscal_year_start)} – {fmt_d(s.fiscal_year_end)}"
    board = _roc_date(s.board_approval_date, lang)
    deadline = _roc_date(s.deadline, lang)
    if lang == "en":
        title, intro = "Statement on the Overall Implementation of Information Security", (
            f"The overall implementation of information security of {_e(s.broker)} in the fiscal year {fy} was "
            "assessed under the Cybersecurity Inspection Mechanism for Securities Firms. We state:")
        points = [
            f"The company has an inspection mechanism in place and carried out {done} inspections in the year "
            f"({signed} signed off by the computer auditor); the summary by chapter follows.",
            f"The inspections found {raised} deficiencies: {closed} were remediated and closed, {s.open_findings} "
            f"remain under remediation ({s.overdue_findings} past their due date), all on the deficiency and "
            "remediation tracking list (CC-21000.2).",
            f"{s.incidents} cybersecurity incidents occurred in the year; {s.incidents_reported_on_time} were "
            "reported within the required times.",
            (f"The board of directors approved this statement on {board}." if s.board_approval_date
             else "This statement is to be submitted to the board of directors for approval."),
            f"Its content is to be disclosed on the Market Observation Post System by {deadline} (within three "
            "months after the fiscal year end, CC-12000.6).",
        ]
        head = ["Chapter", "Inspections", "Signed off", "Items assessed", "Compliant %", "Deficiencies", "Closed"]
        dated = "Date: "
    else:
        title = "資訊安全整體執行情形聲明書"
        intro = (f"本公司民國{roc_year(s.fiscal_year_end.year)}年度（{fy}）資訊安全整體執行情形，依「建立證券商資通安全檢查機制」"
                 "辦理資通安全檢查，經自行評估，謹聲明如下：")
        points = [
            f"本公司已建立資通安全檢查機制，本年度辦理查核 {done} 次（經電腦稽核覆核簽核 {signed} 次），各章節執行情形摘要如下表。",
            f"查核發現缺失共 {raised} 項，已改善結案 {closed} 項，尚在改善中 {s.open_findings} 項"
            f"（其中逾期 {s.overdue_findings} 項），均已列入缺失改善追蹤表持續追蹤（CC-21000.2）。",
            f"本年度發生資安事件 {s.incidents} 件，於規定時限內完成通報者 {s.incidents_reported_on_time} 件。",
            (f"本聲明書業經本公司{board}董事會通過。" if s.board_approval_date else "本聲明書尚待提報董事會通過。"),
            f"本聲明書內容將於{deadline}前（會計年度終了後三個月內）揭露於公開資訊觀測站（CC-12000.6）。",
        ]
        head = ["章節", "查核次數", "覆核簽核", "評估項目", "符合率（%）", "缺失", "已結案"]
        dated = "中華"
    rows = "".join(
        f"<tr><td><span class=ref>{_e(c.chapter)}</span> {_e(c.name)}</td><td class=num>{c.inspections}</td>"
        f"<td class=num>{c.signed_off}</td><td class=num>{c.assessed}</td>"
        f"<td class=num>{'' if c.compliance is None else c.compliance}</td><td class=num>{c.findings}</td>"
        f"<td class=num>{c.closed}</td></tr>" for c in s.chapters)
    table = ("<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead>"
             + (rows or f"<tr><td colspan=7 class=muted>{t('none', lang)}</td></tr>") + "</table>")
    sigs = "".join(
        f"<div><b>{of(SIGNATORIES, role, lang)}</b>：{_e(s.signatory(role).name)}"
        f"{'（' + _e(s.signatory(role).title) + '）' if s.signatory(role).title and lang != 'en' else ''}"
        f"<br><span class=line></span> {'(signature)' if lang == 'en' else '（簽章）'}</div>"
        for role in ("chairman", "president", "ciso", "chief_auditor"))
    body = (f'<div class="statement"><div class=broker>{_e(s.broker)}</div><h1>{title}</h1>'
            f"<p>{intro}</p>" + _numbered(points[:1], 0, lang) + table + _numbered(points[1:], 1, lang)
            + f'<div class="deadline">{"Disclosure deadline" if lang == "en" else "公開資訊觀測站揭露期限"}：'
            f"<b id=deadline>{fmt_d(s.deadline)}</b></div>"
            f"<div class=signatures>{sigs}</div><p>{dated}{board}</p></div>")
    return _page(f"{title} · {s.broker}", body, lang, extra=f'<div class="draft">{t("draft", lang)}</div>')
