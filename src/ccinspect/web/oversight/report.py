"""The inspection report (查核報告): zh-TW with the English alongside, citing its legal basis; HTML for the
browser and, through WeasyPrint (reports.render.pdf_from_html), PDF."""

from __future__ import annotations

from html import escape

from ccinspect.reports.render import _page, _points, fmt_d, fmt_dt, pdf_from_html

from . import services as svc
from .models import Engagement, basis

EXTRA = """
.bi { color: #5f6368; font-size: 8pt; display: block; }
.basis { border: 1pt solid #0b5394; padding: 4pt 8pt; margin: 6pt 0; }
"""


def _e(v) -> str:
    return escape(str(v if v is not None else ""))


def _bi(zh: str, en: str) -> str:
    """Chinese first, the English beneath it."""
    return f"{_e(zh)}<span class=\"bi\">{_e(en)}</span>"


SEVERITY = {"low": ("低", "Low"), "medium": ("中", "Medium"), "high": ("高", "High"), "critical": ("重大", "Critical")}


def report_html(eng: Engagement) -> str:
    b = basis()
    kind = b["kinds"][eng.kind]
    trig = b["triggers"].get(eng.trigger)
    rows = svc.request_rows(eng)
    answered = sum(1 for r in rows if r["answered"])
    obs = list(eng.observations.select_related("deduction_table").order_by("ref_id", "id"))
    total = sum(o.deduction_points for o in obs)
    inspectors = "、".join(f"{u.display_name()}（{u.title}）" if u.title else u.display_name()
                          for u in eng.inspectors.order_by("username"))
    basis_items = "".join(f"<li>{_bi('「' + x['text'] + '」' + x['articles'], x['text_en'] + ': ' + x['articles_en'])}"
                          f"</li>" for x in b["legal_basis"])
    draft = "" if eng.status == Engagement.APPROVED else '<div class="draft">草稿 DRAFT</div>'
    meta = [
        (("受查證券商", "Broker inspected"), _e(eng.organisation.name)),
        (("查核種類", "Kind of inspection"), _bi(kind["title"], kind["title_en"])
         + (f"<br>{_bi('選案原因：' + trig['text'], 'Trigger: ' + trig['text_en'])}" if trig else "")
         + (f"<br>{_e(eng.thematic.title)}" if eng.thematic_id else "")),
        (("查核期間", "Inspected period"), f"{fmt_d(eng.period_start)} – {fmt_d(eng.period_end)}"),
        (("資安分級 / 規範版本", "Tier / framework version"), f"{eng.tier} / {_e(eng.framework_version)}"),
        (("查核範圍", "Scope"), _e("、".join(eng.scope_chapters + eng.scope_focus))
         + (f"<br>{_e(eng.scope_systems)}" if eng.scope_systems else "")),
        (("查核人員", "Inspectors"), _e(inspectors)),
        (("核定主管", "Approved by"), _e(eng.supervisor.display_name()) + (
            f"（{fmt_dt(eng.approved_at)}）" if eng.approved_at else "（尚未核定 not yet approved）")),
        (("調閱項目 / 已回覆", "Items requested / answered"), f"{len(rows)} / {answered}"),
    ]
    meta_html = "".join(f"<tr><th>{_bi(*k)}</th><td>{v}</td></tr>" for k, v in meta)
    if obs:
        f_rows = "".join(
            f"<tr><td>{i}</td><td class=\"ref\">{_e(o.ref_id)}</td><td>{_e(o.title)}"
            f"{'<br>' + _e(o.description) if o.description else ''}</td>"
            f"<td>{_bi(*SEVERITY.get(o.severity, (o.severity, o.severity)))}</td>"
            f"<td class=\"num\">{_points(o.deduction_points)}</td><td>{fmt_d(o.due_date)}</td>"
            f"<td>{fmt_d(o.deduction_table.effective_from)}</td></tr>" for i, o in enumerate(obs, 1))
        findings = (f"<table><thead><tr><th>#</th><th>{_bi('條文', 'Requirement')}</th>"
                    f"<th>{_bi('缺失事項', 'Finding')}</th><th>{_bi('嚴重度', 'Severity')}</th>"
                    f"<th>{_bi('扣分', 'Points')}</th><th>{_bi('改善期限', 'Remediation due')}</th>"
                    f"<th>{_bi('扣分標準版本', 'Deduction table of')}</th></tr></thead><tbody>{f_rows}"
                    f"<tr><th colspan=\"4\">{_bi('合計扣分', 'Total deduction points')}</th>"
                    f"<th class=\"num\">{_points(total)}</th><th colspan=\"2\"></th></tr></tbody></table>")
    else:
        findings = f"<p>{_bi('本次查核未發現缺失。', 'The inspection found no deficiency.')}</p>"
    body = f"""{draft}
<h1>{_bi('證券商資通安全查核報告', 'Cybersecurity inspection report')}</h1>
<div class="basis"><b>{_bi('查核依據', 'Legal basis')}</b><ul>{basis_items}</ul>
<span class="bi">{_e(kind['purpose'])} — {_e(kind['purpose_en'])}</span></div>
<table class="meta">{meta_html}</table>
<h2>{_bi('查核缺失及扣分', 'Findings and deduction points')}</h2>{findings}
<p>{_bi('受查證券商應於改善期限內完成改善並提出複查佐證，經本公司確認後結案。',
        'The broker remediates each finding by its due date and submits retest evidence; the exchange accepts '
        'the closure.')}</p>"""
    return _page(f"查核報告 Inspection report · {eng.organisation.name}", body, "zh", f"<style>{EXTRA}</style>")


def report_pdf(eng: Engagement) -> bytes:
    return pdf_from_html(report_html(eng))
