"""The broker's gateway settings and templates; every notification, attempt and answer; the cases."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ccinspect.notification import contract
from ccinspect.web.accounts.models import Organisation

LANGUAGES = [("zh-hant", "繁體中文"), ("en", "English")]
PERSONAL = "<personal data>"


def keep_until_default():
    return timezone.now() + dt.timedelta(days=365 * settings.NOTIFICATION_RETENTION_YEARS + 1)


class Gateway(models.Model):
    """How a broker reaches its customers. ccinspect keeps no phone number or e-mail address: the webhook
    gets the account id, the e-mail relay gets an address the lookup callback gives for one message."""

    WEBHOOK, SMTP = "webhook", "smtp"
    CHANNELS = [(WEBHOOK, _("Gateway webhook (SMS / app / e-mail)")), (SMTP, _("E-mail through the broker's relay"))]
    AUDIT_HIDDEN = {"secret": "<secret>"}

    organisation = models.OneToOneField(Organisation, on_delete=models.PROTECT, related_name="notification_gateway")
    channel = models.CharField(_("channel"), max_length=10, choices=CHANNELS, default=WEBHOOK)
    webhook_url = models.CharField(_("gateway URL"), max_length=500, blank=True)
    secret = models.CharField(_("signing secret"), max_length=200)
    smtp_host = models.CharField(_("mail relay host"), max_length=200, blank=True)
    smtp_port = models.PositiveIntegerField(_("mail relay port"), default=25)
    smtp_starttls = models.BooleanField(_("STARTTLS"), default=False)
    smtp_sender = models.CharField(_("sender address"), max_length=200, blank=True)
    address_lookup_url = models.CharField(_("address lookup URL"), max_length=500, blank=True)
    language = models.CharField(_("default language"), max_length=10, choices=LANGUAGES, default="zh-hant")
    token_hours = models.PositiveIntegerField(_("answer within (hours)"), default=72)
    follow_up_hours = models.PositiveIntegerField(_("follow up unanswered after (hours)"), default=24)
    max_attempts = models.PositiveSmallIntegerField(_("attempts per message"), default=6)
    backoff_seconds = models.PositiveIntegerField(_("first retry after (seconds)"), default=30)
    timeout_seconds = models.PositiveSmallIntegerField(_("timeout (seconds)"), default=10)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.organisation} · {self.channel}"


class MessageTemplate(models.Model):
    NOTIFICATION, FOLLOW_UP = "notification", "follow_up"
    KINDS = [(NOTIFICATION, _("Notification")), (FOLLOW_UP, _("Follow-up"))]

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=KINDS)
    language = models.CharField(max_length=10, choices=LANGUAGES)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("message"))
    allow_links = models.BooleanField(_("allow links"), default=False)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "kind", "language"],
                                               name="one_template_per_kind_language")]

    def __str__(self) -> str:
        return f"{self.kind} · {self.language}"


class Notification(models.Model):
    QUEUED, SENT, FAILED, ANSWERED = "queued", "sent", "failed", "answered"
    STATUSES = [(QUEUED, _("Queued")), (SENT, _("Sent")), (FAILED, _("Not delivered")), (ANSWERED, _("Answered"))]
    ME, NOT_ME = "me", "not_me"
    ANSWERS = [(ME, _("This was me")), (NOT_ME, _("This was not me"))]
    AUDIT_HIDDEN = {"account": PERSONAL, "place": PERSONAL, "token_digest": "<secret>", "nonce": "<secret>"}

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    account = models.CharField(max_length=100)
    kind = models.CharField(max_length=40)
    reason = models.TextField(blank=True)
    login_at = models.DateTimeField(null=True, blank=True)
    place = models.CharField(max_length=200, blank=True)
    detected_at = models.DateTimeField()
    source = models.CharField(max_length=300, blank=True)
    dedupe_key = models.CharField(max_length=64)
    language = models.CharField(max_length=10, choices=LANGUAGES, default="zh-hant")
    nonce = models.CharField(max_length=32)
    token_digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=STATUSES, default=QUEUED)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    follow_up_due_at = models.DateTimeField(null=True, blank=True)
    followed_up_at = models.DateTimeField(null=True, blank=True)
    answer = models.CharField(max_length=10, choices=ANSWERS, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_via = models.CharField(max_length=10, blank=True)  # api, page
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    keep_until = models.DateTimeField(default=keep_until_default)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["organisation", "dedupe_key"], name="notify_once")]
        indexes = [models.Index(fields=["organisation", "-created_at", "-id"], name="notif_broker_list_idx"),
                   models.Index(fields=["status", "next_attempt_at"], name="notif_due_idx")]

    def __str__(self) -> str:  # no account id: this is what the audit trail shows
        return f"N-{self.pk}"

    @property
    def code(self) -> str:
        return f"N-{self.pk}"

    def token(self) -> str:
        """Derived, not stored: a retry carries the same token as the first try."""
        mac = hmac.new(settings.SECRET_KEY.encode(), f"notification-token:{self.public_id}:{self.nonce}".encode(),
                       hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:16]).rstrip(b"=").decode()

    def set_token(self) -> None:
        self.token_digest = contract.token_digest(self.token())

    @property
    def reason_label(self) -> str:
        from django.utils.translation import get_language

        from ccinspect.notification.message import reason_text

        return reason_text(self.kind, self.kind, get_language() or "zh-hant")

    @property
    def expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def awaiting_answer(self) -> bool:
        return not self.answer and self.status in (self.QUEUED, self.SENT)


class Attempt(models.Model):
    notification = models.ForeignKey(Notification, on_delete=models.PROTECT, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    follow_up = models.BooleanField(default=False)
    channel = models.CharField(max_length=10)
    at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    elapsed_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["notification", "follow_up", "number"]

    def __str__(self) -> str:
        return f"N-{self.notification_id} #{self.number}{' follow-up' if self.follow_up else ''}"

    def audit_organisation_id(self):
        return self.notification.organisation_id


class Case(models.Model):
    """A customer said a login was not theirs: the officer decides whether it is a reportable incident."""

    OPEN, ESCALATED, CLOSED = "open", "escalated", "closed"
    STATUSES = [(OPEN, _("Open")), (ESCALATED, _("Escalated to the incident register")), (CLOSED, _("Closed"))]
    AUDIT_HIDDEN = {"account": PERSONAL}

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    notification = models.OneToOneField(Notification, on_delete=models.PROTECT, related_name="case")
    account = models.CharField(max_length=100)
    detected_at = models.DateTimeField()
    opened_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=STATUSES, default=OPEN)
    incident = models.ForeignKey("incidents.Incident", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    lock_reset_requested_at = models.DateTimeField(null=True, blank=True)
    lock_reset_done_at = models.DateTimeField(null=True, blank=True)
    keep_until = models.DateTimeField(default=keep_until_default)

    class Meta:
        ordering = ["-opened_at", "-id"]

    def __str__(self) -> str:
        return f"CASE-{self.pk}"

    @property
    def code(self) -> str:
        return f"CASE-{self.pk}"


class SeenSignature(models.Model):
    """Signed callbacks already accepted, kept past the timestamp tolerance: a replay is refused."""

    digest = models.CharField(max_length=64, unique=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
