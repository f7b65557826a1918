"""The register's record kinds (`ccinspect.continuity.KINDS`) as tables, one row per record, each tied to a
broker. Field names are the library's (the record id is `code`, since `id` is the primary key); times are in
minutes; lists (functions, systems, participants …) are JSON lists. Systems are named by their id, as in the
register; `ccinspect.continuity.reference_problems` checks them on every change."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ccinspect.continuity import KINDS
from ccinspect.web.accounts.models import Organisation
from ccinspect.web.inspections.models import Finding


class Record(models.Model):
    KIND = ""
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    @property
    def record_id(self) -> str:
        return self.system if self.KIND == "dr_coverage" else self.code

    def __str__(self) -> str:
        return f"{self.KIND} {self.record_id}"

    def to_record(self) -> dict:
        """The row as the library's record (a dict its pydantic model validates)."""
        out = {}
        for name in KINDS[self.KIND][0].model_fields:
            out[name] = getattr(self, "code" if name == "id" else name)
        return out


def _code():
    return models.CharField(_("id"), max_length=60)


def _minutes(label, null=False):
    return models.FloatField(label, null=null, blank=null)


def _unique(kind, field="code"):
    return [models.UniqueConstraint(fields=["organisation", field], name=f"continuity_{kind}_unique_{field}")]


class CoreSystem(Record):
    KIND = "systems"
    code = _code()
    name = models.CharField(_("name"), max_length=200)
    owner = models.CharField(_("owner"), max_length=200)
    functions = models.JSONField(_("business functions"), default=list, blank=True)
    trading_host = models.BooleanField(_("trading host"), default=False)
    major_impact = models.BooleanField(_("major impact on operations"), default=False)
    outsourced_provider = models.CharField(_("outsourced to (provider)"), max_length=200, blank=True, default="")
    provider_plan_months = models.PositiveIntegerField(_("provider plan every (months)"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = _unique("systems")


class ImpactAnalysis(Record):
    KIND = "impact_analyses"
    code = _code()
    system = models.CharField(_("system"), max_length=60)
    date = models.DateField(_("date"))
    tolerable_minutes = _minutes(_("tolerable interruption (minutes)"))
    rto_minutes = _minutes(_("RTO (minutes)"))
    rpo_minutes = _minutes(_("RPO (minutes)"))
    approver = models.CharField(_("approver"), max_length=200)

    class Meta:
        ordering = ["system", "-date"]
        constraints = _unique("impact_analyses")


class FallbackPlan(Record):
    KIND = "fallback_plans"
    MOMENTS = [(str(n), str(n)) for n in range(1, 6)]
    code = _code()
    moment = models.CharField(_("moment"), max_length=1, choices=MOMENTS)
    business_unit = models.CharField(_("business unit"), max_length=200)
    procedure = models.TextField(_("procedure"))
    systems = models.JSONField(_("systems"), default=list, blank=True)
    approved_on = models.DateField(_("approved on"), null=True, blank=True)

    class Meta:
        ordering = ["moment", "code"]
        constraints = _unique("fallback_plans")


class DrCoverage(Record):
    KIND = "dr_coverage"
    system = models.CharField(_("system"), max_length=60)
    site = models.CharField(_("DR site"), max_length=200)
    since = models.DateField(_("since"))
    last_switch_test = models.DateField(_("last switch-over test"), null=True, blank=True)

    class Meta:
        ordering = ["system"]
        constraints = _unique("dr_coverage", "system")


class Drill(Record):
    KIND = "drills"
    DRILL_KINDS = [("bcp", _("Business continuity drill")), ("ddos", _("DDoS drill")),
                   ("fault_recovery", _("Fault-recovery test")), ("restore", _("Backup restore test"))]
    RESULTS = [("passed", _("passed")), ("partial", _("partial")), ("failed", _("failed"))]
    code = _code()
    kind = models.CharField(_("kind"), max_length=20, choices=DRILL_KINDS)
    date = models.DateField(_("date"))
    scenario = models.TextField(_("scenario"))
    systems = models.JSONField(_("systems"), default=list, blank=True)
    participants = models.JSONField(_("participants"), default=list, blank=True)
    third_party_involved = models.BooleanField(_("third party involved"), default=False)
    vendors_invited = models.JSONField(_("vendors invited"), default=list, blank=True)
    target_rto_minutes = _minutes(_("target RTO (minutes)"), null=True)
    achieved_rto_minutes = _minutes(_("achieved RTO (minutes)"), null=True)
    target_rpo_minutes = _minutes(_("target RPO (minutes)"), null=True)
    achieved_rpo_minutes = _minutes(_("achieved RPO (minutes)"), null=True)
    result = models.CharField(_("result"), max_length=10, choices=RESULTS)
    review_meeting_on = models.DateField(_("review meeting on"), null=True, blank=True)
    improvement_items = models.JSONField(_("improvement items"), default=list, blank=True)

    class Meta:
        ordering = ["-date", "code"]
        constraints = _unique("drills")


class RiskScenario(Record):
    KIND = "risk_scenarios"
    code = _code()
    system = models.CharField(_("system"), max_length=60)
    scenario = models.TextField(_("scenario"))
    response = models.TextField(_("response"), blank=True, default="")
    mitigation = models.TextField(_("mitigation"), blank=True, default="")
    recovery = models.TextField(_("recovery"), blank=True, default="")
    reviewed_on = models.DateField(_("reviewed on"))

    class Meta:
        ordering = ["system", "code"]
        constraints = _unique("risk_scenarios")


class ProviderPlan(Record):
    KIND = "provider_plans"
    FORMS = [("dr_plan", _("disaster recovery plan")), ("drill", _("DR drill")), ("bcp", _("business continuity plan"))]
    code = _code()
    system = models.CharField(_("system"), max_length=60)
    provider = models.CharField(_("provider"), max_length=200)
    form = models.CharField(_("form"), max_length=10, choices=FORMS)
    received_on = models.DateField(_("received on"))
    document = models.CharField(_("document"), max_length=300, blank=True, default="")

    class Meta:
        ordering = ["system", "-received_on"]
        constraints = _unique("provider_plans")


class ToleranceClass(Record):
    KIND = "tolerance_classes"
    code = _code()
    market_share_min = models.FloatField(_("market share from (%)"), null=True, blank=True)
    market_share_max = models.FloatField(_("market share below (%)"), null=True, blank=True)
    natural_person_ratio_min = models.FloatField(_("natural-person ratio from (%)"), null=True, blank=True)
    natural_person_ratio_max = models.FloatField(_("natural-person ratio below (%)"), null=True, blank=True)
    max_tolerable_minutes = _minutes(_("maximum tolerable interruption (minutes)"))
    source = models.CharField(_("source"), max_length=300)

    class Meta:
        ordering = ["code"]
        constraints = _unique("tolerance_classes")


MODELS: dict[str, type[Record]] = {m.KIND: m for m in (CoreSystem, ImpactAnalysis, FallbackPlan, DrCoverage, Drill,
                                                       RiskScenario, ProviderPlan, ToleranceClass)}
assert list(MODELS) == list(KINDS), "the tables mirror ccinspect.continuity.KINDS, in its order"


class GapFinding(models.Model):
    """A finding raised in the remediation workflow from a gap of the register (a drill shortfall)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    rule = models.CharField(max_length=60)
    record_kind = models.CharField(max_length=30)
    record_id = models.CharField(max_length=60)
    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="continuity_gaps")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["organisation", "rule", "record_kind", "record_id"],
                                               name="continuity_one_finding_per_gap")]

    def __str__(self) -> str:
        return f"{self.rule} {self.record_kind} {self.record_id} → F-{self.finding_id}"
