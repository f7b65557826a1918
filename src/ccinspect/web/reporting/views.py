"""Report downloads: the inspection report (HTML, PDF, XLSX), the tracking list (XLSX), the statement draft."""

from __future__ import annotations

import datetime as dt

from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from ccinspect.reports import (
    ReportError,
    inspection_html,
    inspection_xlsx,
    pdf_from_html,
    statement_html,
    tracking_xlsx,
)
from ccinspect.web.inspections.permissions import brokers_for, findings_for, get_or_404, inspections_for

from . import data

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROLES = ("ciso", "chairman", "president", "chief_auditor")


def _lang() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh"


def _download(content: bytes, content_type: str, filename: str, about=None, organisation_id=None) -> HttpResponse:
    """An attachment; DownloadAuditMiddleware records it under `about`'s broker (the downloader's by default)."""
    resp = HttpResponse(content, content_type=content_type)
    resp["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp["X-Content-Type-Options"] = "nosniff"
    resp.audit_object, resp.audit_organisation_id = about, organisation_id
    return resp


@csp_update({"style-src": ["'unsafe-inline'"]})
def _preview(html: bytes) -> HttpResponse:
    """A report shown in the browser: the PDF's own HTML (reports/render.py, a <style> element and style
    attributes for WeasyPrint). It runs no script and loads nothing; its response alone adds 'unsafe-inline'
    to the site's style-src."""
    return HttpResponse(html, content_type="text/html; charset=utf-8")


def render_inspection(insp, fmt: str, lang: str) -> tuple[bytes, str, str]:
    report = data.inspection_report(insp)
    name = f"inspection-{insp.pk}-{insp.occurrence_id.split(':', 1)[-1].replace(':', '-')}"
    if fmt == "xlsx":
        return inspection_xlsx(report, lang), XLSX, f"{name}.xlsx"
    html = inspection_html(report, lang)
    if fmt == "pdf":
        return pdf_from_html(html), "application/pdf", f"{name}.pdf"
    return html.encode(), "text/html; charset=utf-8", f"{name}.html"


@login_required
@require_safe
def inspection_report(request, pk, fmt):
    insp = get_or_404(inspections_for(request.user), pk)
    if fmt not in ("html", "pdf", "xlsx"):
        return HttpResponse("format is html, pdf or xlsx", status=404, content_type="text/plain")
    content, ctype, filename = render_inspection(insp, fmt, _lang())
    if fmt == "html":
        return _preview(content)
    return _download(content, ctype, filename, insp, insp.organisation_id)


@login_required
@require_safe
def tracking(request):
    qs = findings_for(request.user)
    brokers = brokers_for(request.user)
    want = request.GET.get("broker")
    if want:
        org = get_or_404(brokers, want)
        qs, scope = qs.filter(organisation=org), org.name
    elif request.user.organisation_id and brokers.filter(pk=request.user.organisation_id).exists():
        org = brokers.get(pk=request.user.organisation_id)
        qs, scope = qs.filter(organisation=org), org.name
    else:
        scope = "全部證券商" if _lang() == "zh" else "all brokers"
    if request.GET.get("open"):
        qs = qs.exclude(status="closed")
    return _download(tracking_xlsx(data.tracking_list(qs, scope), _lang()), XLSX,
                     f"tracking-{timezone.localdate():%Y%m%d}.xlsx")


@login_required
@require_safe
def statement(request):
    brokers = brokers_for(request.user)
    g = request.GET
    year_default = timezone.localdate().year - 1
    ctx = {"brokers": brokers, "roles": ROLES, "g": g, "year": g.get("year") or year_default}
    if "format" not in g:
        return render(request, "reporting/statement.html", ctx)
    org = get_or_404(brokers, g.get("broker") or request.user.organisation_id or 0)
    try:
        try:
            year = int(g.get("year") or year_default)
        except ValueError:
            raise ReportError(f"year {g.get('year')!r} is not a year") from None
        board = None
        if g.get("board_date"):
            try:
                board = dt.date.fromisoformat(g["board_date"])
            except ValueError:
                raise ReportError(f"board approval date {g['board_date']!r} is not a date (YYYY-MM-DD)") from None
        sigs = {r: (g.get(f"{r}_name", "").strip(), g.get(f"{r}_title", "").strip()) for r in ROLES}
        missing = [r for r in ROLES if not sigs[r][0]]
        if missing:
            raise ReportError("name all four signatories (missing: " + ", ".join(missing) + ")")
        st = data.statement(org, year, sigs, board, _lang())
    except ReportError as exc:
        return render(request, "reporting/statement.html", ctx | {"error": str(exc)}, status=400)
    html = statement_html(st, _lang())
    if g.get("format") == "pdf":
        return _download(pdf_from_html(html), "application/pdf", f"statement-{year}.pdf", org, org.pk)
    return _preview(html.encode())
