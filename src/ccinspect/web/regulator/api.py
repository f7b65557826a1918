"""/api/regulator: the regulator's views as JSON; 403 for every other role."""

from __future__ import annotations

from django.http import Http404
from ninja import Router

from ccinspect.web.accounts.models import Organisation
from ccinspect.web.inspections.permissions import get_or_404

from . import metrics as m
from .permissions import require_regulator

router = Router(tags=["regulator"])


def _period(period: str | None, source: str | None = None) -> str:
    ps = m.periods_with_data(source=source)
    p = period or (ps[-1] if ps else None)
    if p is None or p not in ps:
        raise Http404
    return p


@router.get("/risk-map")
def risk_map(request, period: str | None = None, share: float = m.SHARE_THRESHOLD, points: float = m.POINTS_THRESHOLD,
             tier: int | None = None, source: str | None = None):
    """source: regulator (default once the regulator has approved an inspection) or self_inspection."""
    require_regulator(request.auth)
    source = m.source_of(source)
    return m.risk_map(_period(period, source), share, points, tier, source)


@router.get("/risk-now")
def risk_now(request, period: str | None = None, tier: int | None = None, lang: str = "zh",
             source: str | None = None):
    require_regulator(request.auth)
    source = m.source_of(source)
    return m.risk_now(_period(period, source), lang, tier, source=source)


@router.get("/trends")
def trends(request, tier: int | None = None, lang: str = "zh", source: str | None = None):
    require_regulator(request.auth)
    return m.trends(tier, lang, source=m.source_of(source))


@router.get("/brokers/{broker_id}")
def broker(request, broker_id: int, source: str | None = None):
    require_regulator(request.auth)
    org = get_or_404(Organisation.objects.filter(kind=Organisation.BROKER), broker_id)
    return m.broker_detail(org, source=m.source_of(source)) | {"inspections": [
        {"id": i.pk, "title": i.title, "period_end": i.period_end, "status": i.status, "tier": i.tier}
        for i in org.inspections.order_by("-period_end")]}
