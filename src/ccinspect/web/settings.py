"""Django settings for the ccinspect web application, read from the environment.

| variable | default | meaning |
| --- | --- | --- |
| CCINSPECT_DEBUG | false | Django DEBUG |
| SECRET_KEY | a dev key only when DEBUG | required otherwise (`ccinspect serve` keeps one in var/secret_key) |
| DATABASE_URL | sqlite:///var/ccinspect.sqlite3 | any dj-database-url URL (postgresql://…) |
| CCINSPECT_VAR | ./var | where the SQLite file, evidence and collected static files live |
| CCINSPECT_MEDIA_ROOT | $CCINSPECT_VAR/evidence | evidence store |
| ALLOWED_HOSTS | 127.0.0.1,localhost | comma-separated |
| CCINSPECT_MAX_UPLOAD_MB | 20 | largest evidence file |
| CCINSPECT_PASSWORD_MIN_LENGTH | 10 | ≥ 8 (CC-18000.3 recommends 8) |
| CCINSPECT_PASSWORD_MAX_AGE_DAYS | 90 | forced rotation for every user |
| CCINSPECT_PASSWORD_HISTORY | 5 | recent passwords that may not be reused |
| CCINSPECT_SESSION_MINUTES | 30 | idle session expiry |
| CCINSPECT_LOCKOUT_FAILURES | 3 | failed logins before lockout (django-axes) |
| CCINSPECT_LOCKOUT_MINUTES | 30 | how long a lockout lasts |
| CCINSPECT_TEST_DB_NAME | test_<name> | the database the tests create (parallel runs on one server) |
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


def _bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None


WEB_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("CCINSPECT_VAR", "var")).resolve()

DEBUG = _bool("CCINSPECT_DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105
    else:
        raise ImproperlyConfigured("SECRET_KEY is not set (set it, or CCINSPECT_DEBUG=1 for development)")

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

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
    "ninja",  # serves the OpenAPI docs page (Swagger UI) from local static files, no CDN
    "ccinspect.web.accounts",
    "ccinspect.web.inspections",
    "ccinspect.web.dashboard",
    "ccinspect.web.api",
    "ccinspect.web.incidents",
    "ccinspect.web.regulator",
    "ccinspect.web.reporting",
    "ccinspect.web.continuity",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "ccinspect.web.accounts.language.LanguageMiddleware",  # zh-Hant unless the user switched
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "ccinspect.web.accounts.middleware.ActorMiddleware",
    "ccinspect.web.accounts.middleware.PolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

if not os.environ.get("DATABASE_URL"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": dj_database_url.parse(
    os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'ccinspect.sqlite3'}", conn_max_age=60)}
if os.environ.get("CCINSPECT_TEST_DB_NAME"):  # lets two test runs share one PostgreSQL server
    DATABASES["default"]["TEST"] = {"NAME": os.environ["CCINSPECT_TEST_DB_NAME"]}
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
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = _bool("CCINSPECT_SECURE_COOKIES")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

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
try:
    import plotly

    STATICFILES_DIRS.append(("plotly", Path(plotly.__file__).parent / "package_data"))
except ImportError:  # pragma: no cover - plotly is a dependency
    pass
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

MEDIA_ROOT = Path(os.environ.get("CCINSPECT_MEDIA_ROOT", VAR_DIR / "evidence")).resolve()
EVIDENCE_MAX_BYTES = _int("CCINSPECT_MAX_UPLOAD_MB", 20) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o640

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CCINSPECT_LOG_LEVEL", "WARNING")},
}
