"""Inspections, their checklist items, evidence, findings and remediation."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ccinspect.web.accounts.models import Organisation


def _bilingual(zh: str, en: str) -> str:
    lang = (get_language() or "zh-hant").lower()
    return (en or zh) if lang.startswith("en") else (zh or en)


class Inspection(models.Model):
    IN_PROGRESS, SUBMITTED, SIGNED_OFF = "in_progress", "submitted", "signed_off"
    STATUSES = [(IN_PROGRESS, _("In progress")), (SUBMITTED, _("Submitted for review")),
                (SIGNED_OFF, _("Signed off"))]
    CADENCES = [("monthly", _("Monthly")), ("semiannual", _("Half-yearly")), ("annual", _("Yearly"))]

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="inspections")
    occurrence_id = models.CharField(max_length=120)
    unit = models.CharField(max_length=200)  # the chapter or unit ref_ids, comma-separated
    title = models.CharField(max_length=300)
    title_en = models.CharField(max_length=300, blank=True)
    cadence = models.CharField(max_length=20, choices=CADENCES, blank=True)
    period_start = models.DateField()
    period_end = models.DateField()
    due = models.DateField()
    framework_version = models.CharField(max_length=50)
    tier = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=20, choices=STATUSES, default=IN_PROGRESS)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    signed_off_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                      null=True, blank=True)
    signed_off_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-period_end", "unit"]
        constraints = [models.UniqueConstraint(fields=["organisation", "occurrence_id"],
                                               name="one_inspection_per_occurrence")]
        # the lists' order (a page of them is an index scan, not a sort of every inspection)
        indexes = [models.Index(fields=["-period_end", "unit", "id"], name="insp_list_idx"),
                   models.Index(fields=["organisation", "-period_end", "unit", "id"], name="insp_broker_list_idx")]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.title}"

    @property
    def label(self) -> str:
        return _bilingual(self.title, self.title_en)

    @property
    def editable(self) -> bool:
        return self.status == self.IN_PROGRESS

    @property
    def is_overdue(self) -> bool:
        return self.status != self.SIGNED_OFF and self.due < timezone.localdate()

    def counts(self) -> dict:
        out = {k: 0 for k, _label in ChecklistItem.RESULTS}
        for r in self.items.filter(assessable=True).values_list("result", flat=True):
            out[r] += 1
        return out


class ChecklistItem(models.Model):
    NOT_ASSESSED, COMPLIANT, DEFICIENT, NOT_APPLICABLE = "not_assessed", "compliant", "deficient", "not_applicable"
    RESULTS = [(NOT_ASSESSED, _("Not assessed")), (COMPLIANT, _("Compliant")), (DEFICIENT, _("Deficient")),
               (NOT_APPLICABLE, _("Not applicable"))]

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="items")
    order = models.PositiveIntegerField(default=0)
    ref_id = models.CharField(max_length=60)
    chapter = models.CharField(max_length=30)
    label = models.CharField(max_length=30, blank=True)
    depth = models.PositiveSmallIntegerField(default=0)
    text = models.TextField()
    text_en = models.TextField(blank=True)
    obligation = models.CharField(max_length=20, blank=True)
    assessable = models.BooleanField(default=True)
    reason = models.TextField(blank=True)
    reason_en = models.TextField(blank=True)
    focus_points = models.JSONField(default=list, blank=True)
    result = models.CharField(max_length=20, choices=RESULTS, default=NOT_ASSESSED)
    na_reason = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    automated_status = models.CharField(max_length=10, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["inspection", "order"]
        constraints = [models.UniqueConstraint(fields=["inspection", "ref_id"], name="one_item_per_ref")]

    def __str__(self) -> str:
        return f"{self.ref_id} ({self.get_result_display()})"

    def audit_organisation_id(self):
        return self.inspection.organisation_id

    @property
    def display_text(self) -> str:
        return _bilingual(self.text, self.text_en)

    @property
    def display_reason(self) -> str:
        return _bilingual(self.reason, self.reason_en)

    @property
    def display_focus(self) -> list[str]:
        return [_bilingual(f.get("text", ""), f.get("text_en", "")) for f in self.focus_points]


class DeductionRule(models.Model):
    """The configurable table: how many points a finding of each severity deducts."""

    SEVERITIES = [("low", _("Low")), ("medium", _("Medium")), ("high", _("High")), ("critical", _("Critical"))]
    severity = models.CharField(max_length=20, choices=SEVERITIES, unique=True)
    points = models.DecimalField(max_digits=6, decimal_places=2)
    description = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.severity}: {self.points}"

    @classmethod
    def points_for(cls, severity: str):
        rule = cls.objects.filter(severity=severity).first()
        return rule.points if rule else 0


class Finding(models.Model):
    OPEN, IN_PROGRESS, READY, CLOSED = "open", "in_progress", "ready_for_retest", "closed"
    STATUSES = [(OPEN, _("Open")), (IN_PROGRESS, _("In progress")), (READY, _("Ready for retest")),
                (CLOSED, _("Closed"))]
    # who found it: the broker's own inspection, or the regulator's (web/oversight; no checklist item then)
    SELF, REGULATOR = "self_inspection", "regulator"
    SOURCES = [(SELF, _("Broker self-inspection")), (REGULATOR, _("Regulator inspection"))]

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="findings")
    source = models.CharField(_("source"), max_length=20, choices=SOURCES, default=SELF, db_index=True)
    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="findings",
                                   null=True, blank=True)
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="findings",
                             null=True, blank=True)
    ref_id = models.CharField(max_length=60)
    chapter = models.CharField(max_length=30)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    severity = models.CharField(_("severity"), max_length=20, choices=DeductionRule.SEVERITIES)
    deduction_points = models.DecimalField(max_digits=6, decimal_places=2, default=0)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_findings",
                              null=True, blank=True, verbose_name=_("owner"))
    due_date = models.DateField(_("due date"))
    remediation_plan = models.TextField(_("remediation plan"), blank=True)
    status = models.CharField(max_length=20, choices=STATUSES, default=OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    ready_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                 null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["status", "due_date", "id"]
        indexes = [models.Index(fields=["status", "due_date", "id"], name="finding_list_idx"),
                   models.Index(fields=["organisation", "status", "due_date", "id"], name="finding_broker_list_idx")]

    def __str__(self) -> str:
        return f"F-{self.pk} {self.ref_id} {self.title}"

    @property
    def is_overdue(self) -> bool:
        return self.status != self.CLOSED and self.due_date < timezone.localdate()

    @property
    def from_regulator(self) -> bool:
        return self.source == self.REGULATOR


class FindingEvent(models.Model):
    """The finding's history: every status change and update, with who and when."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    # the notes the services write (services.raise_finding, update_finding, add_retest_evidence), shown in
    # the reader's language; anything else is a person's note and is shown as written
    FIELDS = {"remediation plan": _("remediation plan"), "owner": _("owner"), "due date": _("due date"),
              "severity": _("severity")}

    @property
    def from_label(self) -> str:
        return str(dict(Finding.STATUSES).get(self.from_status, self.from_status))

    @property
    def to_label(self) -> str:
        return str(dict(Finding.STATUSES).get(self.to_status, self.to_status))

    @property
    def changes_status(self) -> bool:
        return bool(self.from_status) and self.from_status != self.to_status

    @property
    def display_note(self) -> str:
        note = self.note or ""
        if note == "raised":
            return str(_("Finding raised"))
        if note.startswith("updated: "):
            fields = [str(self.FIELDS.get(f.strip(), f.strip())) for f in note[len("updated: "):].split(",")]
            sep = ", " if (get_language() or "").startswith("en") else "、"
            return str(_("Updated: %(fields)s")) % {"fields": sep.join(fields)}
        if note.startswith("retest evidence "):
            return str(_("Retest evidence %(file)s")) % {"file": note[len("retest evidence "):]}
        return note


class EvidenceError(RuntimeError):
    pass


class EvidenceQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise EvidenceError("evidence is never altered; upload a new version instead")

    def delete(self):
        raise EvidenceError("evidence is never deleted")


class Evidence(models.Model):
    """An evidence file: never altered or replaced. A new version is a new record that `supersedes` the old."""

    UPLOAD, RETEST, AUTOMATED = "upload", "retest", "automated"
    KINDS = [(UPLOAD, _("Upload")), (RETEST, _("Retest evidence")), (AUTOMATED, _("Automated check result"))]

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="evidence")
    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="evidence",
                                   null=True, blank=True)
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="evidence", null=True, blank=True)
    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="evidence", null=True, blank=True)
    kind = models.CharField(max_length=20, choices=KINDS, default=UPLOAD)
    original_name = models.CharField(max_length=255)
    stored_path = models.CharField(max_length=300)  # relative to MEDIA_ROOT, content-addressed
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)
    supersedes = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="superseded_by")
    metadata = models.JSONField(default=dict, blank=True)

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha256[:12]})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise EvidenceError("evidence is never altered; upload a new version instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise EvidenceError("evidence is never deleted")
