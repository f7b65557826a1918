"""The incident register as XLSX (openpyxl): one row per incident, its clocks, the outage times, the links."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from openpyxl.styles import Font

from ccinspect.reports.render import HEAD_FILL, HEAD_FONT, _save, _sheet

from . import clocks as clk
from .templatetags.incidents import STAGE_LABELS, STATE_LABELS

RED = Font(color="B3261E", bold=True)


def _naive(value):
    return None if value is None else clk.taipei(value).replace(tzinfo=None)


def register_xlsx(incidents, now: dt.datetime) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = str(_("Incident register"))[:31]
    headers = [_("ID"), _("Broker"), _("Title"), _("Category"), _("Detected (Taipei)"), _("Systems affected"),
               _("Customers affected"), _("Estimated amount (NTD)"), _("Personal data"),
               _("Immediate report to TWSE")]
    for stage in clk.STAGES:
        label = str(STAGE_LABELS[stage])
        headers += [f"{label} · {_('deadline')}", f"{label} · {_('reported')}", f"{label} · {_('status')}"]
    headers += [_("Outage started"), _("Service restored"), _("Interruption (minutes)"),
                _("Tolerable interruption (minutes)"), _("RTO (minutes)"), _("Exceeded tolerable time"),
                _("Findings"), _("BCP follow-ups")]
    rows, overdue_cells = [], []
    for n, inc in enumerate(incidents, start=2):
        cl = {c.stage: c for c in inc.clocks()}
        row = [inc.code, inc.organisation.name, inc.title, str(inc.get_category_display()),
               _naive(inc.detected_at), inc.systems_affected, inc.customers_affected, int(inc.estimated_amount),
               ", ".join(str(dict(inc.PERSONAL_DATA)[k]) for k in inc.personal_data),
               _("yes") if inc.personal_data_incident else _("no")]
        for stage in clk.STAGES:
            c = cl.get(stage)
            if c is None:
                row += ["", "", str(_("not required"))]
                continue
            state = c.state(now)
            if state == clk.OVERDUE:
                overdue_cells.append((n, len(row) + 3))
            row += [_naive(c.deadline), _naive(c.done_at), str(STATE_LABELS[state])]
        exceeded = inc.interruption_exceeds_tolerable or inc.rto_exceeds_tolerable
        row += [_naive(inc.outage_started_at), _naive(inc.service_restored_at), inc.interruption_minutes,
                inc.tolerable_minutes, inc.rto_minutes, _("yes") if exceeded else "",
                ", ".join(f"F-{f.pk}" for f in inc.findings.all()),
                "; ".join(f"{fu.action} ({fu.due_date:%Y-%m-%d}{', ' + str(_('done')) if fu.done_at else ''})"
                          for fu in inc.bcp_followups.all())]
        rows.append(row)
    _sheet(ws, [str(h) for h in headers], rows, [9, 22, 30, 14, 17, 24, 10, 14, 14, 10] + [17, 17, 10] * 4
           + [17, 17, 10, 10, 10, 10, 14, 40])
    for cell in ws[1]:
        cell.font, cell.fill = HEAD_FONT, HEAD_FILL
    for r, c in overdue_cells:
        ws.cell(row=r, column=c).font = RED
    return _save(wb)
