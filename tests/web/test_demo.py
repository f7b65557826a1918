"""The demo seed (`ccinspect web seed-demo`, `make run`) tells the story of a well-run broker with a few
problems, relative to today."""

from __future__ import annotations

import pytest
from django.utils import timezone

from ccinspect.web import demo
from ccinspect.web.accounts.models import User
from ccinspect.web.dashboard.views import broker_summary
from ccinspect.web.inspections.models import Finding, Inspection

pytestmark = pytest.mark.django_db


def test_demo_is_a_well_run_broker_with_a_few_problems():
    out = demo.seed()
    today = timezone.localdate()
    broker, other = out["broker"], out["other"]
    s = broker_summary(broker, today)

    past = Inspection.objects.filter(organisation=broker, due__lt=today)
    assert past.count() >= 20
    assert past.filter(status=Inspection.SIGNED_OFF).count() >= past.count() - 1
    assert len(s["overdue"]) <= 1  # at most last period's, submitted and awaiting the auditor
    assert all(r["inspection"] and r["inspection"].status == Inspection.SUBMITTED for r in s["overdue"])

    started = [r["inspection"] for r in s["due_month"] if r["inspection"]]
    assert len(started) == 1 and started[0].status == Inspection.IN_PROGRESS
    assert started[0].items.exclude(result="not_assessed").exists()

    findings = Finding.objects.filter(organisation=broker)
    assert 2 <= len(s["overdue_findings"]) <= 4
    closed = findings.filter(status=Finding.CLOSED).count()
    assert closed > findings.count() / 2
    not_overdue = [f for f in findings.exclude(status=Finding.CLOSED) if not f.is_overdue]
    assert not_overdue and all(f.due_date >= today for f in not_overdue)
    # histories are spread over time, none in the future
    f = findings.filter(status=Finding.CLOSED).first()
    times = list(f.events.values_list("at", flat=True))
    assert times == sorted(times) and times[0] < times[-1] <= timezone.now()

    # the neighbouring broker has something for the regulator to see
    assert Inspection.objects.filter(organisation=other).count() >= 2
    assert Inspection.objects.filter(organisation=other, status=Inspection.SIGNED_OFF).exists()
    # it joined last month: the periods before that are not overdue work on its dashboard
    assert len(broker_summary(other, today)["overdue"]) <= 1

    # the printed credentials sign in; a second run changes no inspection
    for username, *_rest, password in out["users"]:
        assert User.objects.get(username=username).check_password(password)
    assert demo.seed()["created"] == 0
