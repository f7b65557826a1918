"""Every environment variable ccinspect reads, read here and documented in one table (docs/settings.md).

The library and the CLI call these functions; web/settings.py builds Django's settings from them.
Reading a variable that is not in the table is a programming error, so the table cannot fall behind.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, define


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    meaning: str
    used_by: str = "web"


VARIABLES: tuple[Variable, ...] = (
    Variable("CCINSPECT_VAR", "./var", "where the SQLite file, evidence, the generated SECRET_KEY file "
             "(`secret_key`) and collected static files live", "web, cli"),
    Variable("CCINSPECT_DEBUG", "false", "Django DEBUG (development only)", "web, cli"),
    Variable("SECRET_KEY", "var/secret_key", "Django's secret key; when unset, `ccinspect serve` and `ccinspect web` "
             "create one in $CCINSPECT_VAR/secret_key (0600) and use it, except with CCINSPECT_DEBUG or "
             "CCINSPECT_HTTPS (production must set it)", "web, cli"),
    Variable("DATABASE_URL", "sqlite:///$CCINSPECT_VAR/ccinspect.sqlite3", "any dj-database-url URL (postgresql://…)"),
    Variable("CCINSPECT_TEST_DB_NAME", "test_<name>", "the database the tests create (parallel runs on one server)"),
    Variable("CCINSPECT_MEDIA_ROOT", "$CCINSPECT_VAR/evidence", "evidence store"),
    Variable("CCINSPECT_UPLOAD_TMP", "$CCINSPECT_VAR/upload-tmp",
             "where uploads over 2 MB are spooled while they arrive (private, 0700)"),
    Variable("CCINSPECT_ANCHOR_FILE", "$CCINSPECT_VAR/audit-anchors.txt",
             "the audit chain's anchors (heads written by `backup` and `anchor`); keep it on another machine"),
    Variable("CCINSPECT_QUARANTINE", "$CCINSPECT_VAR/evidence-quarantine",
             "where `verify --sweep-orphans` moves files the audit trail names but no record does"),
    Variable("ALLOWED_HOSTS", "127.0.0.1,localhost", "comma-separated host names the site answers to"),
    Variable("CSRF_TRUSTED_ORIGINS", "", "comma-separated origins (https://host) trusted for POSTs"),
    Variable("CCINSPECT_MAX_UPLOAD_MB", "20", "largest evidence file"),
    Variable("CCINSPECT_PASSWORD_MIN_LENGTH", "10", "≥ 8 (CC-18000.3 recommends 8)"),
    Variable("CCINSPECT_PASSWORD_MAX_AGE_DAYS", "90", "forced rotation for every user"),
    Variable("CCINSPECT_PASSWORD_HISTORY", "5", "recent passwords that may not be reused"),
    Variable("CCINSPECT_SESSION_MINUTES", "30", "idle session expiry"),
    Variable("CCINSPECT_LOCKOUT_FAILURES", "3", "failed logins before lockout (django-axes)"),
    Variable("CCINSPECT_LOCKOUT_MINUTES", "30", "how long a lockout lasts"),
    Variable("CCINSPECT_HTTPS", "false", "behind a TLS-terminating proxy: HTTPS redirect (not /healthz), HSTS, "
             "secure cookies, X-Forwarded-Proto", "web, cli"),
    Variable("CCINSPECT_HSTS_SECONDS", "31536000", "HSTS max-age when CCINSPECT_HTTPS (0 turns HSTS off)"),
    Variable("CCINSPECT_HSTS_INCLUDE_SUBDOMAINS", "true", "the HSTS includeSubDomains flag when CCINSPECT_HTTPS"),
    Variable("CCINSPECT_HSTS_PRELOAD", "true", "the HSTS preload flag when CCINSPECT_HTTPS"),
    Variable("CCINSPECT_SECURE_COOKIES", "= CCINSPECT_HTTPS", "Secure flag on the session, CSRF and language cookies"),
    Variable("CCINSPECT_PROXY_HOPS", "0",
             "trusted proxies in front that append to X-Forwarded-For: the client address for rate limits"),
    Variable("CCINSPECT_LOGIN_RATE", "10/m", "sign-in POSTs per client address (password and TOTP steps both count)"),
    Variable("CCINSPECT_TOKEN_RATE", "10/m", "POSTs to the API token page per client address"),
    Variable("CCINSPECT_API_AUTH_FAIL_RATE", "20/m",
             "API requests failing authentication per client address; past it every API request gets 429"),
    Variable("CCINSPECT_CONFIRM_RATE", "10/m",
             "requests to the hosted confirmation page per client address (`ccinspect web confirm-page`)"),
    Variable("CCINSPECT_RATELIMIT_CACHE", "db",
             "`db` (table ccinspect_ratelimit, shared by all gunicorn workers) or `locmem` (one process)"),
    Variable("CCINSPECT_LOG_LEVEL", "WARNING", "level of the root logger (DEBUG, INFO, WARNING, ERROR)"),
    Variable("CCINSPECT_INCIDENT_INITIAL_MINUTES", "30", "incident clock: initial report, minutes after detection"),
    Variable("CCINSPECT_INCIDENT_FORMAL_HOURS", "24", "incident clock: formal report, hours after detection"),
    Variable("CCINSPECT_INCIDENT_CLOSURE_DAYS", "3", "incident clock: closure (解除通報), days after detection"),
    Variable("CCINSPECT_INCIDENT_TWSE_MINUTES", "30", "incident clock: immediate report to TWSE of a personal-data incident (CC-20000.6), minutes"),
    Variable("CCINSPECT_SEEDS", "the bundled sources", "another copy of the TWSE source documents to check the "
             "catalog against", "library, tests"),
)
_KNOWN = {v.name: v for v in VARIABLES}

NOT_A_NUMBER = define("setting.int", "{name}={raw!r} is not a whole number", "{name}={raw!r} 不是整數")


class SettingError(InputError):
    """A variable set to something unusable; names the variable."""


def env(name: str, default: str | None = None) -> str | None:
    """The one place ccinspect reads the environment."""
    if name not in _KNOWN:
        raise KeyError(f"{name} is not in core.settings.VARIABLES (add it there and to docs/settings.md)")
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = env(name)
    if raw is None or not raw.strip():
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = (env(name) or "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingError(NOT_A_NUMBER, field=name, name=name, raw=raw) from None


def var_dir() -> Path:
    return Path(env("CCINSPECT_VAR") or "var").resolve()


def log_level() -> str:
    return (env("CCINSPECT_LOG_LEVEL") or "WARNING").strip().upper()


def secret_key_file() -> Path:
    return var_dir() / "secret_key"


def ensure_secret_key() -> None:
    """SECRET_KEY from the environment, else one kept in $CCINSPECT_VAR/secret_key (created 0600 on first use)
    and exported for Django. In production (CCINSPECT_HTTPS) or with CCINSPECT_DEBUG nothing is created:
    the settings then refuse to start without SECRET_KEY, or use the development key."""
    if env("SECRET_KEY") or env_bool("CCINSPECT_DEBUG") or env_bool("CCINSPECT_HTTPS"):
        return
    path = secret_key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    os.environ["SECRET_KEY"] = path.read_text().strip()


def markdown_table() -> str:
    """docs/settings.md's table (a test keeps the two equal)."""
    rows = [f"| `{v.name}` | {v.default or '(empty)'} | {v.used_by} | {v.meaning} |" for v in VARIABLES]
    return "\n".join(["| variable | default | read by | meaning |", "| --- | --- | --- | --- |", *rows])
