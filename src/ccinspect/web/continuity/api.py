"""/api/continuity: a broker's register and its status, read-only, with the pages' permissions (a broker's
users read their own broker; the regulator and the site admin read every broker)."""

from __future__ import annotations

from ninja import Router

from ccinspect.continuity import KINDS
from ccinspect.core.dates import DateParseError, parse_date
from ccinspect.web.inspections.permissions import brokers_for, get_or_404
from ccinspect.web.inspections.services import ServiceError

from . import services as svc

router = Router(tags=["continuity"])


@router.get("/brokers/{broker_id}/status")
def status(request, broker_id: int, as_of: str | None = None):
    """Every gap now, the gaps on the DR-site milestone, drills due, last drill per system (Status.to_dict())."""
    org = get_or_404(brokers_for(request.auth), broker_id)
    try:
        day = parse_date(as_of, field="as_of") if as_of else None
    except DateParseError as exc:
        raise ServiceError(str(exc)) from None
    return svc.status_for(org, day).to_dict()


@router.get("/brokers/{broker_id}/register")
def register(request, broker_id: int):
    """The register: one list per record kind (the YAML sections)."""
    org = get_or_404(brokers_for(request.auth), broker_id)
    reg = svc.register_for(org)
    return {k: [r.model_dump(mode="json") for r in getattr(reg, k)] for k in KINDS}
