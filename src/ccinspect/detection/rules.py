"""The tunable rules file (rules/logins.yaml) as validated data.

The schema is plain dataclasses checked by a small validator (unknown keys, missing keys, types,
bounds, patterns), not pydantic: the daily scan runs as a fresh process and importing pydantic
was a tenth of a 1M-event run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml


def _c(default=dataclasses.MISSING, **bounds):
    """A field with bounds (gt, ge, le) or a pattern, checked by the validator."""
    return field(default=default, metadata=bounds)


class _Model:
    def model_dump(self) -> dict:
        return dataclasses.asdict(self)


SEVERITY = "^(info|low|medium|high|critical)$"
NOTIFY = "^(always|after_failures|never)$"


@dataclass(kw_only=True)
class RuleBase(_Model):
    description: str
    severity: str = _c(pattern=SEVERITY)
    ref_ids: list[str] = _c()
    enabled: bool = True


@dataclass(kw_only=True)
class FailureWindow(_Model):
    minutes: int = _c(gt=0)
    min_failures: int = _c(gt=0)


@dataclass(kw_only=True)
class AccountWindow(_Model):
    minutes: int = _c(gt=0)
    min_accounts: int = _c(gt=0)


@dataclass(kw_only=True)
class BruteForce(RuleBase):
    windows: list[FailureWindow] = _c()
    min_failures_per_address: int = _c(ge=1)


@dataclass(kw_only=True)
class Stuffing(RuleBase):
    windows: list[AccountWindow] = _c()
    min_failure_ratio: float = _c(ge=0, le=1)


@dataclass(kw_only=True)
class Spraying(RuleBase):
    min_customer_share: float = _c(ge=0, le=1)
    max_attempts_per_account: float = _c(gt=0)


@dataclass(kw_only=True)
class Suspect(_Model):
    min_non_customer_accounts: int = _c(ge=1)
    min_accounts: int = _c(ge=1)


@dataclass(kw_only=True)
class Campaign(RuleBase):
    window_minutes: int = _c(gt=0)
    min_addresses: int = _c(ge=2)
    suspect: Suspect = _c()
    include_new_address_singles: bool = True


@dataclass(kw_only=True)
class NonCustomer(RuleBase):
    window_minutes: int = _c(gt=0)
    min_accounts: int = _c(ge=1)
    min_share: float = _c(ge=0, le=1)


@dataclass(kw_only=True)
class Takeover(RuleBase):
    notify: bool = True


@dataclass(kw_only=True)
class NewSource(RuleBase):
    ipv4_prefix: int = _c(ge=8, le=32)
    ipv6_prefix: int = _c(ge=16, le=128)
    notify_new_country: str = _c(pattern=NOTIFY)
    notify_new_address: str = _c(pattern=NOTIFY)


@dataclass(kw_only=True)
class Rules(_Model):
    brute_force: BruteForce
    credential_stuffing: Stuffing
    password_spraying: Spraying
    stuffing_campaign: Campaign
    non_customer: NonCustomer
    account_takeover: Takeover
    new_source: NewSource


@dataclass(kw_only=True)
class SharedAddress(_Model):
    min_success_accounts: int = _c(ge=2)


@dataclass(kw_only=True)
class Typo(_Model):
    max_edit_distance: int = _c(ge=0, le=3)


@dataclass(kw_only=True)
class RuleSet(_Model):
    version: str
    timezone: str
    run_ref_ids: dict[str, list[str]]
    retention_years: int = _c(ge=1)
    shared_address: SharedAddress = _c()
    typo: Typo = _c()
    rules: Rules = _c()
    # Filled by load_rules, not by the file.
    source: str = _c("", internal=True)
    sha256: str = _c("", internal=True)

    def rule(self, name: str) -> RuleBase:
        return getattr(self.rules, name)


class RulesError(ValueError):
    """The rules file is unreadable or breaks the schema."""


class _Invalid(Exception):
    def __init__(self, loc: list, msg: str):
        super().__init__(msg)
        self.loc, self.msg = loc, msg


_HINTS: dict[type, dict[str, object]] = {}


def _check(tp, value, loc: list):
    """`value` as type `tp`, or _Invalid naming where and why (pydantic's wording)."""
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, loc)
    if origin is list:
        if not isinstance(value, list):
            raise _Invalid(loc, "Input should be a valid list")
        (item,) = typing.get_args(tp)
        return [_check(item, v, [*loc, i]) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise _Invalid(loc, "Input should be a valid dictionary")
        _, val = typing.get_args(tp)
        return {_check(str, k, [*loc, k]): _check(val, v, [*loc, k]) for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise _Invalid(loc, "Input should be a valid boolean")
        return value
    if tp is int:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(loc, "Input should be a valid integer")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise _Invalid(loc, "Input should be a valid number")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise _Invalid(loc, "Input should be a valid string")
        return value
    raise TypeError(f"rules schema: unsupported type {tp!r}")  # a programming error, not bad input


def _build(cls, data, loc: list):
    if not isinstance(data, dict):
        raise _Invalid(loc, f"Input should be a valid dictionary or instance of {cls.__name__}")
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    fields_ = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    extra = [k for k in data if k not in fields_]
    if extra:
        raise _Invalid([*loc, extra[0]], "Extra inputs are not permitted")
    kwargs = {}
    for name, f in fields_.items():
        where = [*loc, name]
        if name not in data:
            if f.default is dataclasses.MISSING:
                raise _Invalid(where, "Field required")
            continue
        v = _check(hints[name], data[name], where)
        m = f.metadata
        if "gt" in m and not v > m["gt"]:
            raise _Invalid(where, f"Input should be greater than {m['gt']}")
        if "ge" in m and not v >= m["ge"]:
            raise _Invalid(where, f"Input should be greater than or equal to {m['ge']}")
        if "le" in m and not v <= m["le"]:
            raise _Invalid(where, f"Input should be less than or equal to {m['le']}")
        if "pattern" in m and not re.search(m["pattern"], v):
            raise _Invalid(where, f"String should match pattern '{m['pattern']}'")
        kwargs[name] = v
    return cls(**kwargs)


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
        rs = _build(RuleSet, data, [])
    except _Invalid as exc:
        where = ".".join(str(x) for x in exc.loc)
        raise RulesError(f"{p}: field {where}: {exc.msg}") from exc
    rs.source = str(p)
    rs.sha256 = hashlib.sha256(raw).hexdigest()
    return rs
