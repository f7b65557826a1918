"""/api/reports: the inspection report (PDF, XLSX, HTML) and the tracking list, with the pages' permissions."""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Router

from ccinspect.reports import tracking_xlsx
from ccinspect.web.inspections.permissions import findings_for, get_or_404, inspections_for

from . import data
from .views import XLSX, _download, render_inspection

router = Router(tags=["reports"])


@router.get("/inspections/{inspection_id}")
def inspection_report(request, inspection_id: int, format: str = "pdf", lang: str = "zh"):
    insp = get_or_404(inspections_for(request.auth), inspection_id)
    if format not in ("html", "pdf", "xlsx"):
        return HttpResponse('{"detail": "format is html, pdf or xlsx"}', status=400, content_type="application/json")
    content, ctype, name = render_inspection(insp, format, "en" if lang == "en" else "zh")
    return _download(content, ctype, name, insp, insp.organisation_id)


@router.get("/tracking")
def tracking(request, lang: str = "zh"):
    user = request.auth
    qs = findings_for(user)
    scope = user.organisation.name if user.organisation_id and not user.sees_all_brokers else "all brokers"
    return _download(tracking_xlsx(data.tracking_list(qs, scope), "en" if lang == "en" else "zh"), XLSX,
                     "tracking.xlsx")
