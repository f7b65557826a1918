"""Django settings for the ccinspect web application, read from the environment.

Every variable is read through ccinspect.core.settings and documented in docs/settings.md.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from ccinspect.core.settings import SettingError, env, env_bool, env_int, log_level, var_dir

_bool = env_bool


def _int(name: str, default: int) -> int:
    try:
        return env_int(name, default)
    except SettingError as exc:
        raise ImproperlyConfigured(str(exc)) from None


WEB_DIR = Path(__file__).resolve().parent
VAR_DIR = var_dir()

def _rate(name: str, default: str) -> str:
    """A django-ratelimit rate: N/s, N/m, N/h, N/d or N/<k>m (N per k minutes)."""
    raw = (env(name) or "").strip() or default
    if not re.fullmatch(r"\d+/\d*[smhd]", raw):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a rate like 10/m, 100/h or 5/15m")
    return raw


DEBUG = _bool("CCINSPECT_DEBUG")
HTTPS = _bool("CCINSPECT_HTTPS")
SECRET_KEY = env("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105
    else:
        raise ImproperlyConfigured("SECRET_KEY is not set (set it, or CCINSPECT_DEBUG=1 for development)")

ALLOWED_HOSTS = [h.strip() for h in env("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o for o in env("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "ninja",  # serves the OpenAPI docs page (Swagger UI) from local static files, no CDN
    "ccinspect.web.accounts",
    "ccinspect.web.inspections",
    "ccinspect.web.dashboard",
    "ccinspect.web.api",
    "ccinspect.web.incidents",
    "ccinspect.web.regulator",
    "ccinspect.web.reporting",
    "ccinspect.web.continuity",
    "ccinspect.web.oversight",
    "ccinspect.web.security",
    "ccinspect.web.brokers",
    "django_tasks",
    "django_tasks_db",
    "ccinspect.web.notification",
]

# Background work (django-tasks with its database backend): `ccinspect web worker` runs db_worker.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# The header middlewares sit above WhiteNoise so that static files get the same headers as pages.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "ccinspect.web.security.middleware.HeadersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "ccinspect.web.accounts.middleware.SessionRefreshMiddleware",  # idle clock: after the view, before the save
    "ccinspect.web.accounts.language.LanguageMiddleware",  # zh-Hant unless the user switched
    "ccinspect.web.inspections.uploads.UploadLimitMiddleware",  # refuses oversize bodies unread, translated
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "ccinspect.web.security.middleware.RateLimitMiddleware",
    "ccinspect.web.accounts.middleware.ActorMiddleware",
    "ccinspect.web.accounts.middleware.DownloadAuditMiddleware",  # every attachment sent, in the audit trail
    "ccinspect.web.accounts.middleware.PolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ccinspect.web.urls"
WSGI_APPLICATION = "ccinspect.web.wsgi.application"

TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [WEB_DIR / "templates"],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.template.context_processors.i18n",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
        "ccinspect.web.accounts.context.roles",
    ]},
}]

if not env("DATABASE_URL"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": dj_database_url.parse(
    env("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'ccinspect.sqlite3'}", conn_max_age=60)}
if env("CCINSPECT_TEST_DB_NAME"):  # lets two test runs share one PostgreSQL server
    DATABASES["default"]["TEST"] = {"NAME": env("CCINSPECT_TEST_DB_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
PASSWORD_MIN_LENGTH = max(8, _int("CCINSPECT_PASSWORD_MIN_LENGTH", 10))
PASSWORD_MAX_AGE_DAYS = _int("CCINSPECT_PASSWORD_MAX_AGE_DAYS", 90)
PASSWORD_HISTORY = _int("CCINSPECT_PASSWORD_HISTORY", 5)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "ccinspect.web.accounts.passwords.MixedCharactersValidator"},
    {"NAME": "ccinspect.web.accounts.passwords.HistoryValidator", "OPTIONS": {"count": PASSWORD_HISTORY}},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"

AXES_FAILURE_LIMIT = _int("CCINSPECT_LOCKOUT_FAILURES", 3)
AXES_COOLOFF_TIME = timedelta(minutes=_int("CCINSPECT_LOCKOUT_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
AXES_VERBOSE = False
# CC-18000.3.e: the account is locked after three wrong passwords, from wherever they come; axes.W006 asks
# for the IP address as well, which would let an attacker who rotates addresses keep guessing.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

OTP_TOTP_ISSUER = "ccinspect"

SESSION_COOKIE_AGE = _int("CCINSPECT_SESSION_MINUTES", 30) * 60
# The idle clock is refreshed at most once a minute (accounts.middleware.SessionRefreshMiddleware), not by a
# session write on every request.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # the pages carry the token in the form / hx-headers; no script reads the cookie
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = _bool("CCINSPECT_SECURE_COOKIES", HTTPS)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# same-origin: a full Referer on our own requests (Django's CSRF check over HTTPS wants one), none elsewhere.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if HTTPS:
    # TLS ends at the reverse proxy, which must set X-Forwarded-Proto (and strip it from clients).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the proxy's or orchestrator's health check speaks plain HTTP
    SECURE_HSTS_SECONDS = _int("CCINSPECT_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _bool("CCINSPECT_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = _bool("CCINSPECT_HSTS_PRELOAD", True)

# Content-Security-Policy (django-csp): nothing from another origin, no inline or eval'd script, no inline
# style: no <style> element or style attribute, the rules are in static/ccinspect/*.css (plotly*.css: what
# plotly.js would inject, see templates/_plotly.html). The report previews alone add 'unsafe-inline' to
# style-src (reporting/views.py): they are the PDF's own HTML, shown in the browser.
CONTENT_SECURITY_POLICY = {"DIRECTIVES": {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}}
PERMISSIONS_POLICY = ("accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
                      "magnetometer=(), microphone=(), midi=(), payment=(), usb=(), serial=(), hid=()")

# Rate limits (django-ratelimit) per client address, on top of axes' per-account lockout.
LOGIN_RATE = _rate("CCINSPECT_LOGIN_RATE", "10/m")
TOKEN_RATE = _rate("CCINSPECT_TOKEN_RATE", "10/m")
API_AUTH_FAIL_RATE = _rate("CCINSPECT_API_AUTH_FAIL_RATE", "20/m")
PROXY_HOPS = _int("CCINSPECT_PROXY_HOPS", 0)
CONFIRM_RATE = _rate("CCINSPECT_CONFIRM_RATE", "10/m")
# customer notification records (notifications, attempts, answers, cases): CC-18000.4.c, three years
NOTIFICATION_RETENTION_YEARS = 3
RATELIMIT_USE_CACHE = "ratelimit"
RATELIMIT_IP_META_KEY = "ccinspect.web.security.middleware.client_ip"
_RL_CACHE = env("CCINSPECT_RATELIMIT_CACHE", "db").strip().lower()
if _RL_CACHE not in {"db", "locmem"}:
    raise ImproperlyConfigured(f"CCINSPECT_RATELIMIT_CACHE={_RL_CACHE!r}: expected db or locmem")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # The database cache holds a limit across gunicorn workers; migration security.0001 creates its table.
    # Every write counts the rows (Django culls expired ones past MAX_ENTRIES), so keep the table small.
    # Its increments lock the row: concurrent workers never lose a count (security/cache.py).
    "ratelimit": {"BACKEND": "ccinspect.web.security.cache.AtomicDatabaseCache", "LOCATION": "ccinspect_ratelimit",
                  "OPTIONS": {"MAX_ENTRIES": 10000}} if _RL_CACHE == "db" else
                 {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ratelimit"},
}

LANGUAGE_CODE = "zh-hant"
FORMAT_MODULE_PATH = ["ccinspect.web.formats"]
LANGUAGES = [("zh-hant", "繁體中文"), ("en", "English")]
LOCALE_PATHS = [WEB_DIR / "locale"]
# The switch in the header sets this cookie; the browser's Accept-Language is ignored (zh-Hant by default).
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
USE_I18N = True
TIME_ZONE = "Asia/Taipei"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [WEB_DIR / "static"]
# `collectstatic` (run by `ccinspect serve`, `make run` and the web tests) writes every file under a name with
# its content's hash, and gzip-compressed beside it; whitenoise sends the compressed file to browsers that take
# it and marks hashed names cacheable for a year (immutable): a changed file has a new name. In development
# (CCINSPECT_DEBUG) the files are served from the source folders, unhashed, without collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
# Source maps (Swagger UI's, ReDoc's: 5 MB) are fetched only by a developer's tools: not worth compressing.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = ["map", "jpg", "jpeg", "png", "gif", "webp", "zip", "gz", "tgz", "bz2", "tbz",
                                       "xz", "br", "swf", "flv", "woff", "woff2", "3gp", "3gpp", "asf", "avi", "m4v",
                                       "mov", "mp4", "mpeg", "mpg", "webm", "wmv"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

MEDIA_ROOT = Path(env("CCINSPECT_MEDIA_ROOT") or VAR_DIR / "evidence").resolve()
EVIDENCE_MAX_BYTES = _int("CCINSPECT_MAX_UPLOAD_MB", 20) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o640
# Larger uploads are spooled here rather than in the system's /tmp: a private directory beside the evidence
# store, where `ccinspect verify` finds what a crash mid-upload left and --sweep-orphans removes it.
FILE_UPLOAD_TEMP_DIR = str(Path(env("CCINSPECT_UPLOAD_TMP") or VAR_DIR / "upload-tmp").resolve())
Path(FILE_UPLOAD_TEMP_DIR).mkdir(mode=0o700, parents=True, exist_ok=True)
# The audit chain's head, appended at every backup and by the daily `ccinspect anchor`: a file outside the
# database (docs/web.md tells the operator to put it on other storage), checked by `verify` by default.
AUDIT_ANCHOR_FILE = Path(env("CCINSPECT_ANCHOR_FILE") or VAR_DIR / "audit-anchors.txt").resolve()
EVIDENCE_QUARANTINE = Path(env("CCINSPECT_QUARANTINE") or VAR_DIR / "evidence-quarantine").resolve()

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": log_level()},
}
