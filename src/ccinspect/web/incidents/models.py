"""Incidents and the BCP follow-ups raised from them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ccinspect.web.accounts.models import Organisation
from ccinspect.web.inspections.models import Finding

from . import clocks as clk


class Incident(models.Model):
    CATEGORIES = [
        ("outage", _("Service outage")), ("intrusion", _("Intrusion")), ("malware", _("Malware or ransomware")),
        ("ddos", _("DDoS attack")), ("data_leak", _("Data leak")), ("account_takeover", _("Account takeover")),
        ("phishing", _("Phishing")), ("other", _("Other")),
    ]
    PERSONAL_DATA = [("stolen", _("stolen")), ("altered", _("altered")), ("destroyed", _("destroyed")),
                     ("lost", _("lost")), ("leaked", _("leaked"))]

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="incidents")
    title = models.CharField(_("title"), max_length=300)
    category = models.CharField(_("category"), max_length=30, choices=CATEGORIES)
    description = models.TextField(_("description"), blank=True)
    detected_at = models.DateTimeField(_("detected at"))
    systems_affected = models.TextField(_("systems affected"), blank=True)
    customers_affected = models.PositiveIntegerField(_("customers affected"), default=0)
    estimated_amount = models.DecimalField(_("estimated amount (NTD)"), max_digits=16, decimal_places=0, default=0)
    personal_data = models.JSONField(_("personal data"), default=list, blank=True)
    # service outages: RTO against the tolerable interruption time (可容忍中斷時間)
    outage_started_at = models.DateTimeField(_("outage started"), null=True, blank=True)
    service_restored_at = models.DateTimeField(_("service restored"), null=True, blank=True)
    tolerable_minutes = models.PositiveIntegerField(_("tolerable interruption (minutes)"), null=True, blank=True)
    rto_minutes = models.PositiveIntegerField(_("RTO (minutes)"), null=True, blank=True)
    # the core system of the business continuity register (its id); its latest BIA gives RTO and tolerable time
    core_system = models.CharField(_("core system"), max_length=60, blank=True, default="")
    # the clocks: durations copied from the configuration when the incident is recorded
    initial_minutes = models.PositiveIntegerField(default=30)
    formal_minutes = models.PositiveIntegerField(default=24 * 60)
    closure_minutes = models.PositiveIntegerField(default=3 * 24 * 60)
    twse_minutes = models.PositiveIntegerField(default=30)
    initial_reported_at = models.DateTimeField(_("initial report"), null=True, blank=True)
    formal_reported_at = models.DateTimeField(_("formal report"), null=True, blank=True)
    closure_reported_at = models.DateTimeField(_("closure report"), null=True, blank=True)
    twse_reported_at = models.DateTimeField(_("report to TWSE"), null=True, blank=True)
    findings = models.ManyToManyField(Finding, blank=True, related_name="incidents")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-detected_at", "-id"]

    def __str__(self) -> str:
        return f"INC-{self.pk} {self.title}"

    @property
    def code(self) -> str:
        return f"INC-{self.pk}"

    @property
    def personal_data_incident(self) -> bool:
        return bool(self.personal_data)

    @property
    def is_outage(self) -> bool:
        return self.category == "outage" or self.outage_started_at is not None

    @property
    def is_closed(self) -> bool:
        return self.closure_reported_at is not None

    def clocks(self) -> list[clk.Clock]:
        return clk.clocks(
            self.detected_at,
            {"initial": self.initial_minutes, "formal": self.formal_minutes, "closure": self.closure_minutes,
             "twse": self.twse_minutes},
            {"initial": self.initial_reported_at, "formal": self.formal_reported_at,
             "closure": self.closure_reported_at, "twse": self.twse_reported_at},
            personal_data=self.personal_data_incident)

    def overdue_clocks(self, now=None) -> list[clk.Clock]:
        now = now or timezone.now()
        return [c for c in self.clocks() if c.state(now) == clk.OVERDUE]

    def all_met(self) -> bool:
        return all(c.state(timezone.now()) == clk.MET for c in self.clocks())

    @property
    def interruption_minutes(self) -> int | None:
        if self.outage_started_at is None or self.service_restored_at is None:
            return None
        return int((self.service_restored_at - self.outage_started_at).total_seconds() // 60)

    @property
    def rto_exceeds_tolerable(self) -> bool:
        return None not in (self.rto_minutes, self.tolerable_minutes) and self.rto_minutes > self.tolerable_minutes

    @property
    def interruption_exceeds_tolerable(self) -> bool:
        m = self.interruption_minutes
        return m is not None and self.tolerable_minutes is not None and m > self.tolerable_minutes

    @property
    def interruption_exceeds_rto(self) -> bool:
        m = self.interruption_minutes
        return m is not None and self.rto_minutes is not None and m > self.rto_minutes


class BcpFollowUp(models.Model):
    """A business-continuity follow-up raised from an incident (e.g. revise the recovery procedure, drill)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="bcp_followups")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    action = models.TextField(_("action"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              null=True, blank=True, verbose_name=_("owner"))
    due_date = models.DateField(_("due date"))
    done_at = models.DateTimeField(null=True, blank=True)
    done_note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["done_at", "due_date", "id"]

    def __str__(self) -> str:
        return f"BCP-{self.pk} {self.action[:60]}"

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_date < timezone.localdate()
