"""The tunable rules file (rules/logins.yaml) as validated data."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ccinspect.core.errors import InputError, place_of


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RuleBase(_Strict):
    description: str
    severity: str = Field(pattern="^(info|low|medium|high|critical)$")
    ref_ids: list[str]
    enabled: bool = True


class FailureWindow(_Strict):
    minutes: int = Field(gt=0)
    min_failures: int = Field(gt=0)


class AccountWindow(_Strict):
    minutes: int = Field(gt=0)
    min_accounts: int = Field(gt=0)


class BruteForce(RuleBase):
    windows: list[FailureWindow]
    min_failures_per_address: int = Field(ge=1)


class Stuffing(RuleBase):
    windows: list[AccountWindow]
    min_failure_ratio: float = Field(ge=0, le=1)


class Spraying(RuleBase):
    min_customer_share: float = Field(ge=0, le=1)
    max_attempts_per_account: float = Field(gt=0)


class Suspect(_Strict):
    min_non_customer_accounts: int = Field(ge=1)
    min_accounts: int = Field(ge=1)


class Campaign(RuleBase):
    window_minutes: int = Field(gt=0)
    min_addresses: int = Field(ge=2)
    suspect: Suspect
    include_new_address_singles: bool = True
    burst_factor: float = Field(default=3.0, ge=1)
    burst_z: float = Field(default=4.0, ge=0)
    typo_distance: int = Field(default=2, ge=0, le=3)
    baseline_min_days: int = Field(default=3, ge=1)
    list_non_customer_share: float = Field(default=0.5, ge=0, le=1)


class NonCustomer(RuleBase):
    window_minutes: int = Field(gt=0)
    min_accounts: int = Field(ge=1)
    min_share: float = Field(ge=0, le=1)


class Takeover(RuleBase):
    notify: bool = True


class NewSource(RuleBase):
    ipv4_prefix: int = Field(ge=8, le=32)
    ipv6_prefix: int = Field(ge=16, le=128)
    notify_new_country: str = Field(pattern="^(always|after_failures|never)$")
    notify_new_address: str = Field(pattern="^(always|after_failures|never)$")


class Rules(_Strict):
    brute_force: BruteForce
    credential_stuffing: Stuffing
    password_spraying: Spraying
    stuffing_campaign: Campaign
    non_customer: NonCustomer
    account_takeover: Takeover
    new_source: NewSource


class SharedAddress(_Strict):
    min_success_accounts: int = Field(ge=2)


class Typo(_Strict):
    max_edit_distance: int = Field(ge=0, le=3)


class Notify(_Strict):
    # The lowest confidence that goes to the customer (the broker's choice; default high only).
    min_confidence: str = Field(default="high", pattern="^(high|medium|low)$")
    incident_window_hours: int = Field(default=24, gt=0)  # one notification per customer per window
    evidence_events: int = Field(default=10, ge=1, le=1000)  # events shown with each alert


class ThreeStrikes(_Strict):
    description: str
    ref_ids: list[str]
    max_consecutive_failures: int = Field(ge=1)
    max_gap_minutes: int = Field(default=10, gt=0)
    enabled: bool = True


class RuleSet(_Strict):
    version: str
    timezone: str
    run_ref_ids: dict[str, list[str]]
    retention_years: int = Field(ge=1)
    shared_address: SharedAddress
    typo: Typo
    rules: Rules
    notifications: Notify = Notify()
    three_strikes: ThreeStrikes | None = None
    # Filled by load_rules, not by the file.
    source: str = ""
    sha256: str = ""

    def rule(self, name: str) -> RuleBase:
        return getattr(self.rules, name)


class RulesError(InputError):
    """The rules file is unreadable or breaks the schema."""

    def __init__(self, message, **where):
        # older messages say where in their text ("path: line 3: ..."); the place is still carried as fields
        if isinstance(message, str) and not where:
            where = {"located": True, **place_of(message)}
        super().__init__(message, **where)


DEFAULT_RULES = "logins.yaml"


def default_rules_path() -> Path:
    return Path(str(resources.files("ccinspect.detection") / "rules" / DEFAULT_RULES))


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Load and validate a rules file (the packaged default when `path` is None)."""
    p = Path(path) if path else default_rules_path()
    try:
        raw = p.read_bytes()
        data = yaml.safe_load(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"{p}: cannot read rules: {exc}") from exc
    if not isinstance(data, dict):
        raise RulesError(f"{p}: rules file must be a mapping")
    try:
        rs = RuleSet.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise RulesError(f"{p}: field {where}: {first['msg']}") from exc
    rs.source = str(p)
    rs.sha256 = hashlib.sha256(raw).hexdigest()
    return rs
