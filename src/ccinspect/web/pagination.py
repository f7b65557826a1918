"""Long lists (inspections, findings, the audit trail, incidents) are shown a page at a time: the page's rows are one
LIMIT query and the total one COUNT, however many records there are. `templates/pager.html` draws the links."""

from __future__ import annotations

from django.core.paginator import Page, Paginator

PER_PAGE = 50


def paginate(request, qs, per_page: int = PER_PAGE) -> Page:
    """The requested page (?page=N; out of range or not a number gives the nearest page), with `query`: the
    other query parameters to keep in the page links (a filter such as ?status=open), ending in '&'."""
    page = Paginator(qs, per_page).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    page.query = params.urlencode() + "&" if params else ""
    return page
