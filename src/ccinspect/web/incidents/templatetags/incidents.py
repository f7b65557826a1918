from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import clocks as clk

register = template.Library()

STAGE_LABELS = {"initial": gettext_lazy("Initial report"), "formal": gettext_lazy("Formal report"),
                "closure": gettext_lazy("Closure report"), "twse": gettext_lazy("Immediate report to TWSE")}
STATE_LABELS = {clk.MET: gettext_lazy("Met"), clk.MISSED: gettext_lazy("Late"),
                clk.OVERDUE: gettext_lazy("Overdue"), clk.PENDING: gettext_lazy("Running")}


def span(delta) -> str:
    d, h, m = clk.split(delta)
    parts = []
    if d:
        parts.append(_("%(n)d d") % {"n": d})
    if h or d:
        parts.append(_("%(n)d h") % {"n": h})
    if not d:
        parts.append(_("%(n)d min") % {"n": m})
    return " ".join(parts)


def countdown_text(c: clk.Clock, now) -> str:
    state, left = c.state(now), c.remaining(now)
    if state == clk.PENDING:
        return _("%(t)s left") % {"t": span(left)}
    if state == clk.OVERDUE:
        return _("%(t)s overdue") % {"t": span(left)}
    if state == clk.MET:
        return _("reported %(t)s before the deadline") % {"t": span(left)}
    return _("reported %(t)s late") % {"t": span(left)}


@register.inclusion_tag("incidents/_clock.html")
def clock(c, now=None):
    now = now or timezone.now()
    return {"c": c, "state": c.state(now), "label": STAGE_LABELS[c.stage], "state_label": STATE_LABELS[c.state(now)],
            "text": countdown_text(c, now), "deadline": clk.taipei(c.deadline),
            "done": clk.taipei(c.done_at), "epoch_ms": int(c.deadline.timestamp() * 1000)}


@register.filter
def minutes(value):
    """A duration in minutes, e.g. 30 min, 24 h, 3 d."""
    n = int(value)
    if n >= 2 * 1440 and n % 1440 == 0:
        return _("%(n)d d") % {"n": n // 1440}
    if n >= 60 and n % 60 == 0:
        return _("%(n)d h") % {"n": n // 60}
    return _("%(n)d min") % {"n": n}


@register.filter
def taipei(value):
    return clk.taipei(value)


@register.inclusion_tag("incidents/_alerts.html", takes_context=True)
def incident_alerts(context):
    """Overdue reporting clocks and BCP follow-ups, for the dashboard."""
    from ..models import BcpFollowUp
    from ..services import incidents_for

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"rows": [], "followups": []}
    now = timezone.now()
    rows = []
    for inc in incidents_for(user).filter(closure_reported_at__isnull=True):
        late = inc.overdue_clocks(now)
        if late:
            rows.append({"inc": inc, "clocks": late})
    from ccinspect.web.inspections.permissions import scoped

    followups = [f for f in scoped(BcpFollowUp.objects.select_related("incident"), user).filter(done_at__isnull=True)
                 if f.is_overdue]
    return {"rows": rows, "followups": followups, "now": now}
