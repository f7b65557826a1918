"""The exchange's own inspections of brokers (查核證券商): engagements, their request lists and the broker's
answers, the inspectors' notes and analyzer runs, the findings with their deduction points, and the versioned
deduction table. The inspectors' working papers (notes, analyzer runs, draft findings) are audited under the
regulator's organisation, so a broker's audit trail never shows them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import yaml
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ccinspect.web.accounts.models import Organisation
from ccinspect.web.inspections.models import DeductionRule, Evidence, Finding

BASIS_FILE = Path(__file__).with_name("basis.yaml")


@lru_cache(maxsize=1)
def basis() -> dict:
    """Legal basis, inspection kinds and triggers (basis.yaml)."""
    return yaml.safe_load(BASIS_FILE.read_text(encoding="utf-8"))


def _en() -> bool:
    return (get_language() or "").lower().startswith("en")


def pick(zh: str, en: str) -> str:
    return (en or zh) if _en() else (zh or en)


class ImmutableError(RuntimeError):
    pass


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableError("a submitted answer is never changed; submit a new one that supersedes it")

    def delete(self):
        raise ImmutableError("a submitted answer is never deleted")


# ---- the deduction table, versioned by date ----------------------------------------------------------

class DeductionTable(models.Model):
    """One version of the exchange's deduction table (查核缺失扣分): in force from `effective_from` until the
    next version. A finding takes its points from the version in force on the day it is recorded."""

    effective_from = models.DateField(_("effective from"), unique=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"deduction table from {self.effective_from}"

    def audit_organisation_id(self):
        return None  # the exchange's own table

    @classmethod
    def in_force(cls, on: dt.date) -> DeductionTable | None:
        return cls.objects.filter(effective_from__lte=on).order_by("-effective_from").first()

    def points(self, severity: str) -> Decimal | None:
        e = self.entries.filter(severity=severity).first()
        return e.points if e else None


class DeductionEntry(models.Model):
    table = models.ForeignKey(DeductionTable, on_delete=models.CASCADE, related_name="entries")
    severity = models.CharField(max_length=20, choices=DeductionRule.SEVERITIES)
    points = models.DecimalField(max_digits=6, decimal_places=2)

    class Meta:
        ordering = ["table", "points"]
        constraints = [models.UniqueConstraint(fields=["table", "severity"], name="one_points_per_severity")]

    def audit_organisation_id(self):
        return None

    def __str__(self) -> str:
        return f"{self.severity}: {self.points}"


# ---- thematic inspections and engagements ----------------------------------------------------------------

class ThematicInspection(models.Model):
    """專案查核: one issue, one request list, many brokers (an engagement each)."""

    title = models.CharField(_("title"), max_length=300)
    title_en = models.CharField(max_length=300, blank=True)
    issue = models.TextField(_("issue"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    def audit_organisation_id(self):
        return self.created_by.organisation_id

    @property
    def label(self) -> str:
        return pick(self.title, self.title_en)


class Engagement(models.Model):
    """The regulator's inspection of one broker."""

    ANNUAL, SELECTED, THEMATIC = "annual", "selected", "thematic"
    KINDS = [(ANNUAL, _("Annual routine inspection")), (SELECTED, _("Selected-case inspection")),
             (THEMATIC, _("Thematic inspection"))]
    TRIGGERS = [("complaint", _("Investor's complaint")), ("authority", _("The competent authority's instruction")),
                ("colocation", _("Co-location services"))]
    PLANNED, REQUESTED, REVIEW, APPROVED = "planned", "requested", "review", "approved"
    STATUSES = [(PLANNED, _("Planned")), (REQUESTED, _("Evidence requested")),
                (REVIEW, _("Awaiting the supervisor's approval")), (APPROVED, _("Report approved"))]

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="engagements")
    kind = models.CharField(_("kind"), max_length=20, choices=KINDS)
    trigger = models.CharField(_("trigger"), max_length=20, choices=TRIGGERS, blank=True)
    thematic = models.ForeignKey(ThematicInspection, on_delete=models.PROTECT, related_name="engagements",
                                 null=True, blank=True)
    title = models.CharField(_("title"), max_length=300)
    period_start = models.DateField(_("inspected period from"))
    period_end = models.DateField(_("inspected period to"))
    scope_chapters = models.JSONField(default=list, blank=True)  # chapter ref_ids
    scope_focus = models.JSONField(default=list, blank=True)  # focus point ids (catalog focus_points.yaml)
    scope_systems = models.TextField(_("systems in scope"), blank=True)
    tier = models.PositiveSmallIntegerField(default=0)
    framework_version = models.CharField(max_length=50, blank=True)
    inspectors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="oversight_engagements",
                                        verbose_name=_("inspectors"))
    supervisor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("supervisor"))
    answer_due = models.DateField(_("answers due"))
    status = models.CharField(max_length=20, choices=STATUSES, default=PLANNED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    requested_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period_end", "-id"]
        indexes = [models.Index(fields=["organisation", "-period_end"], name="engagement_broker_idx")]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.title}"

    @property
    def visible_to_broker(self) -> bool:
        return self.status != self.PLANNED

    @property
    def kind_label(self) -> str:
        k = basis()["kinds"][self.kind]
        return pick(k["title"], k["title_en"])

    @property
    def trigger_label(self) -> str:
        t = basis()["triggers"].get(self.trigger)
        return pick(t["text"], t["text_en"]) if t else ""


class InspectorNote(models.Model):
    """The inspectors' working notes (the complaint behind a selected case, observations): never shown to
    the broker, audited under the regulator's organisation."""

    TRIGGER, NOTE = "trigger", "note"
    KINDS = [(TRIGGER, _("Trigger")), (NOTE, _("Note"))]
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(max_length=20, choices=KINDS, default=NOTE)
    text = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def audit_organisation_id(self):
        return self.author.organisation_id


class EvidenceRequest(models.Model):
    """One item of the request list: a requirement applicable to the broker in the inspected period, with
    the focus points beside it and how its evidence is given (an analyzer's file layout, or a document)."""

    ANALYZER, DOCUMENT = "analyzer", "document"
    METHODS = [(ANALYZER, _("Analyzer files")), (DOCUMENT, _("Document or written answer"))]

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="requests")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    order = models.PositiveIntegerField(default=0)
    ref_id = models.CharField(max_length=60)
    chapter = models.CharField(max_length=30)
    text = models.TextField()
    text_en = models.TextField(blank=True)
    focus_points = models.JSONField(default=list, blank=True)
    method = models.CharField(max_length=20, choices=METHODS, default=DOCUMENT)
    layouts = models.JSONField(default=list, blank=True)  # [{"analyzer", "title", "role", "glob", "rules"}]
    due = models.DateField()
    last_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["engagement", "order"]
        constraints = [models.UniqueConstraint(fields=["engagement", "ref_id"], name="one_request_per_ref")]

    def __str__(self) -> str:
        return f"{self.ref_id} ({self.engagement_id})"

    @property
    def display_text(self) -> str:
        return pick(self.text, self.text_en)

    @property
    def display_focus(self) -> list[str]:
        return [pick(f.get("text", ""), f.get("text_en", "")) for f in self.focus_points]

    def current_answers(self):
        """The answers nothing supersedes."""
        return self.answers.filter(superseded_by__isnull=True)


class Answer(models.Model):
    """The broker's answer to one request: a written answer and/or a file in the evidence store. Submitted
    once and never changed: a new answer `supersedes` it."""

    request = models.ForeignKey(EvidenceRequest, on_delete=models.PROTECT, related_name="answers")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(blank=True)
    evidence = models.ForeignKey(Evidence, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    layout_path = models.CharField(max_length=300, blank=True)  # where an analyzer finds the file
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(default=timezone.now)
    supersedes = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="superseded_by")

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        ordering = ["submitted_at", "id"]

    def __str__(self) -> str:
        return f"answer {self.pk} to {self.request.ref_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableError("a submitted answer is never changed; submit a new one that supersedes it")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("a submitted answer is never deleted")


class Reminder(models.Model):
    """A reminder the broker sees (on its engagement and dashboard) for requests due soon or overdue."""

    DUE_SOON, OVERDUE = "due_soon", "overdue"
    KINDS = [(DUE_SOON, _("Due soon")), (OVERDUE, _("Overdue"))]
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=20, choices=KINDS)
    on = models.DateField()
    ref_ids = models.JSONField(default=list)

    class Meta:
        ordering = ["-on", "-id"]
        constraints = [models.UniqueConstraint(fields=["engagement", "kind", "on"], name="one_reminder_a_day")]


class AnalyzerRun(models.Model):
    """The automated analyzers (ccinspect.checks) run by an inspector on the files the broker submitted."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="analyzer_runs")
    run_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    run_at = models.DateTimeField(default=timezone.now)
    inputs = models.JSONField(default=list)  # [{"path", "sha256", "answer_id"}]
    results = models.JSONField(default=list)  # the requirement results for the request list's ref_ids
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-run_at", "-id"]

    def audit_organisation_id(self):
        return self.run_by.organisation_id


class Observation(models.Model):
    """A finding the inspector records (查核缺失): against a requirement and/or a focus point, with the
    deduction points of the table in force. Issued to the broker as an inspections.Finding (source
    regulator) when the supervisor approves the report."""

    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="observations")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    ref_id = models.CharField(max_length=60)
    chapter = models.CharField(max_length=30)
    focus_point = models.CharField(max_length=60, blank=True)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)  # in the report and to the broker
    severity = models.CharField(_("severity"), max_length=20, choices=DeductionRule.SEVERITIES)
    deduction_points = models.DecimalField(max_digits=6, decimal_places=2)
    deduction_table = models.ForeignKey(DeductionTable, on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField(_("remediation due"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finding = models.OneToOneField(Finding, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="observation")

    class Meta:
        ordering = ["engagement", "ref_id", "id"]

    def __str__(self) -> str:
        return f"{self.ref_id} {self.title}"

    def audit_organisation_id(self):
        return self.created_by.organisation_id  # a draft is the regulator's until the report is approved
