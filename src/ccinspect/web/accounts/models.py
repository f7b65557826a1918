"""Organisations, users and roles, password history, API tokens and the audit trail."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import connections, models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ccinspect.applicability import BrokerProfile, ProfileHistory, profile_from_mapping


class Organisation(models.Model):
    BROKER, REGULATOR, OPERATOR = "broker", "regulator", "operator"
    KINDS = [(BROKER, _("Broker")), (REGULATOR, _("Regulator")), (OPERATOR, _("Operator"))]

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=KINDS, default=BROKER)
    profile = models.JSONField(_("broker profile"), default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # A retired broker keeps its records (inspections, evidence, the audit trail) but has no active users.
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    retired_reason = models.CharField(_("reason for retirement"), max_length=500, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_broker(self) -> bool:
        return self.kind == self.BROKER

    def profile_history(self) -> ProfileHistory:
        """The broker's profile versions (ccinspect.web.brokers writes them under "history", each in force from
        its date); a profile without history is one version in force throughout."""
        where = f"organisation {self.name}"
        data = self.profile or {}
        versions = data.get("history") or []
        if not versions:
            fields = {k: v for k, v in data.items() if k != "history"}
            return ProfileHistory.single(profile_from_mapping({**fields, "name": self.name}, where))
        return ProfileHistory([
            (dt.date.fromisoformat(v["from"]),
             profile_from_mapping({**v["profile"], "name": self.name}, f"{where}, version from {v['from']}"))
            for v in versions])

    def broker_profile(self, on: dt.date | None = None) -> BrokerProfile:
        """The profile in force on a date (today by default); no capital is a ProfileError, never tier 4."""
        return self.profile_history().at(on or timezone.localdate())


class Role(models.TextChoices):
    SITE_ADMIN = "site_admin", _("Site administrator")
    BROKER_ADMIN = "broker_admin", _("Broker administrator")
    SECURITY_OFFICER = "security_officer", _("Security officer")
    COMPUTER_AUDITOR = "computer_auditor", _("Computer auditor")
    REGULATOR = "regulator_inspector", _("Regulator inspector")
    REGULATOR_SUPERVISOR = "regulator_supervisor", _("Regulator supervisor")

    @property
    def reads_many_brokers(self) -> bool:
        """Its users read more than one broker's data (the regulator's roles, the site administrator)."""
        return self in MULTI_BROKER_ROLES

    @property
    def needs_second_factor(self) -> bool:
        """Sign-in and API tokens need a second factor: administrators and every role reading many brokers."""
        return self in ADMIN_ROLES or self in MULTI_BROKER_ROLES


ADMIN_ROLES = {Role.SITE_ADMIN, Role.BROKER_ADMIN}
# the exchange's staff: they read every broker; the supervisor also approves inspections (web/oversight)
REGULATOR_ROLES = {Role.REGULATOR, Role.REGULATOR_SUPERVISOR}
# Add a new regulator role here and it reads every broker and needs a second factor.
MULTI_BROKER_ROLES = {Role.SITE_ADMIN} | REGULATOR_ROLES


class User(AbstractUser):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="users", verbose_name=_("organisation"))
    role = models.CharField(_("role"), max_length=30, choices=Role.choices, default=Role.SECURITY_OFFICER)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    must_change_password = models.BooleanField(default=True)
    password_changed_at = models.DateTimeField(null=True, blank=True)

    def set_password(self, raw_password):
        super().set_password(raw_password)
        self._password_changed = raw_password is not None

    def audit_organisation_id(self):
        return self.organisation_id

    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def mfa_required(self) -> bool:
        return self.role in Role.values and Role(self.role).needs_second_factor

    @property
    def is_site_admin(self) -> bool:
        return self.role == Role.SITE_ADMIN

    @property
    def is_regulator(self) -> bool:
        return self.role in REGULATOR_ROLES

    @property
    def sees_all_brokers(self) -> bool:
        return self.role in MULTI_BROKER_ROLES

    @property
    def can_prepare(self) -> bool:
        return self.role in (Role.SECURITY_OFFICER, Role.BROKER_ADMIN)

    @property
    def can_review(self) -> bool:
        return self.role == Role.COMPUTER_AUDITOR

    @property
    def can_view_audit(self) -> bool:
        return self.role in (Role.SITE_ADMIN, Role.BROKER_ADMIN, Role.COMPUTER_AUDITOR) or self.role in REGULATOR_ROLES


class PasswordHistory(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=256)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]


class ApiToken(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def digest(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str) -> tuple[ApiToken, str]:
        """A new token; the key is returned once and stored only as its SHA-256."""
        key = "cci_" + secrets.token_urlsafe(32)
        return cls.objects.create(user=user, name=name, prefix=key[:12], key_hash=cls.digest(key)), key

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditError(RuntimeError):
    pass


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditError("the audit trail is read-only")

    def delete(self):
        raise AuditError("the audit trail is read-only")


class AuditEvent(models.Model):
    """One create, update or delete (or sign-in event). Rows are never updated or deleted: the model
    refuses, and database triggers (see the migration) refuse too."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True)
    actor_name = models.CharField(max_length=300, blank=True)
    actor_title = models.CharField(max_length=100, blank=True)
    actor_role = models.CharField(max_length=30, blank=True)
    organisation_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=20)
    model = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    hash = models.CharField(max_length=64, blank=True, default="", db_index=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        # a broker's page of its trail, newest first, without sorting the whole trail
        indexes = [models.Index(fields=["organisation_id", "-at", "-id"], name="audit_broker_list_idx")]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AuditError("the audit trail is read-only")
        from . import chain

        using = kwargs.get("using") or router.db_for_write(AuditEvent, instance=self)
        with transaction.atomic(using=using):
            head = AuditChainHead.lock(using)
            self.changes = chain.normalise_json(self.changes or {})
            self.prev_hash = head.last_hash
            self.hash = chain.entry_hash({f: getattr(self, f) for f in chain.FIELDS}, self.prev_hash)
            super().save(*args, **kwargs)
            AuditChainHead.objects.using(using).filter(pk=head.pk).update(last_id=self.pk, last_hash=self.hash)

    def delete(self, *args, **kwargs):
        raise AuditError("the audit trail is read-only")


class AuditChainHead(models.Model):
    """One row: the id and hash of the audit trail's last entry. Appending locks it, so entries chain in
    order whatever the concurrency; `verify` compares the trail's end against it (a deleted or added tail)."""

    last_id = models.BigIntegerField(null=True, blank=True)
    last_hash = models.CharField(max_length=64, blank=True, default="")

    @classmethod
    def lock(cls, using: str = "default") -> AuditChainHead:
        from .chain import HEAD_ID

        qs = cls.objects.using(using)
        if connections[using].vendor == "sqlite":
            # select_for_update is a no-op on SQLite: a write takes the database's write lock now, rather
            # than at the insert, so two writers never both read the same head
            qs.filter(pk=HEAD_ID).update(last_hash=models.F("last_hash"))
        head = qs.select_for_update().filter(pk=HEAD_ID).first()
        if head is None:  # a flushed database: the chain starts again
            cls.objects.using(using).get_or_create(pk=HEAD_ID)
            head = qs.select_for_update().get(pk=HEAD_ID)
        return head
