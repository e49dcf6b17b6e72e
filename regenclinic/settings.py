"""RegenClinic settings: one module, driven by environment variables.

Defaults suit the embedded tier (one laptop, SQLite, `make run`). A production
practice sets SECRET_KEY, HTTPS=1, ALLOWED_HOSTS and DATABASE_URL; see README.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from lib.hosts import is_address

django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _embedded_secret_key() -> str:
    """A per-installation key kept in var/, so no secret ever sits in git."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("DEBUG")
HTTPS = env_bool("HTTPS")
if DEBUG and HTTPS:
    # DEBUG shows tracebacks, settings and request data to whoever meets an error: never on a served site.
    raise ImproperlyConfigured("DEBUG=1 with HTTPS=1: DEBUG must never be on where the site is served; unset DEBUG.")
SECRET_KEY = os.environ.get("SECRET_KEY") or _embedded_secret_key()
# Earlier keys, comma-separated, while a rotation settles: signed links, sessions and recovery codes made
# under them still work (Django checks them after SECRET_KEY).
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # The second step of sign-in (accounts.mfa). Before accounts, whose admin takes their pages away.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Passkeys (WebAuthn), a second factor beside the app (accounts.passkeys).
    "django_otp_webauthn",
    "accounts",
    "website",
    "scheduling",
    "patients",
    "procedures",
    "outcomes",
    "interop",
    "outbox",
    "ops",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "simple_history",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "axes",
]

MIDDLEWARE = [
    # First, so static files and every refusal get them too: Permissions-Policy, Cross-Origin-Resource-Policy.
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "regenclinic.middleware.CrossOriginResourcePolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Compresses the HTML. Below WhiteNoise, so static files never reach it (WhiteNoise sends its
    # precompressed copies itself); above everything that writes the body. Since Django 4.2 it pads
    # each response with random bytes, and the CSRF token is masked per response, against BREACH.
    "django.middleware.gzip.GZipMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Whether this session has passed the second step of sign-in (request.user.is_verified()).
    "django_otp.middleware.OTPMiddleware",
    # Sees every response the views below give, to a signed-in person or a patient's link session.
    "accounts.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Ends staff sessions 15 minutes idle or 12 hours old; needs the user and the messages above it.
    "accounts.middleware.StaffSessionMiddleware",
    # Past the password alone, only the second step of sign-in, its set-up and sign-out (accounts.mfa).
    "accounts.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Turns a sign-in refused for too many failures into the sign-in page saying so (AXES_LOCKOUT_CALLABLE).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "regenclinic.urls"
WSGI_APPLICATION = "regenclinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "website.context_processors.practice",
                "accounts.access.staff_links",
            ],
        },
    },
]

# Database: SQLite (embedded, WAL, writers serialised by IMMEDIATE transactions)
# unless DATABASE_URL names PostgreSQL.
if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"],
            conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
            conn_health_checks=True,
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "regenclinic.sqlite3")),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": ("PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"),
            },
            # Tests use a file, not :memory:, so live-server threads get their
            # own connections and meet the same locking as production; one file
            # per test run, so two runs on one checkout never share a database.
            "TEST": {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses a locked-out sign-in before any password is checked; then the
# usual check of the password.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "website:staff_home"
LOGOUT_REDIRECT_URL = "website:home"
# Argon2id for every new or changed password; older hashes still check, and are rehashed with
# Argon2 at the next sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Languages: English at /, Spanish at /es/.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "America/Los_Angeles"
# Spanish as it is read in the US: 12-hour times ("2:15 p. m.") and month/day/year dates.
FORMAT_MODULE_PATH = ["regenclinic.formats"]
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_MAX_AGE = 3600

# Email: a file per message under var/mail in the embedded tier; SMTP in production.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
# A stalled mail server must not hold the worker (or a request) for ever.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "RegenClinic <no-reply@regenclinic.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background tasks (the outbox's deliveries): rows in the database, run by `manage.py run_worker`.
# A task row commits with the change that queued it, so nothing is sent for a change that rolled back.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# Cache (rate limits read the database, so this is only a speed-up): Redis
# when REDIS_URL is set, per-process memory otherwise.
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["REDIS_URL"]}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# How long a worker may show public content after staff change it, when the
# cache is per process (with REDIS_URL every worker sees a change at once).
PUBLIC_CACHE_SECONDS = int(os.environ.get("PUBLIC_CACHE_SECONDS", "60"))
# "Our results": no public figure for a group of fewer patients than this. Never below 11, the
# smallest cell size public health statistics publish (CMS cell-size suppression policy).
RESULTS_MIN_N = max(11, int(os.environ.get("RESULTS_MIN_N", "20")))
# The outcomes dashboard's queries run on this many threads, a connection each (1: one after another).
DASHBOARD_WORKERS = max(1, int(os.environ.get("DASHBOARD_WORKERS", "2")))
# ... from this many treated episodes in the selection; below, one thread is faster.
DASHBOARD_PARALLEL_FROM = int(os.environ.get("DASHBOARD_PARALLEL_FROM", "1000"))
# A FHIR bulk export's files (identified health information) are removed this many days after it finished.
BULK_EXPORT_KEEP_DAYS = int(os.environ.get("BULK_EXPORT_KEEP_DAYS", "7"))

# Security. Cookies are Secure and HSTS is on whenever the site is served over HTTPS.
# Over HTTPS the cookies carry the `__Host-` prefix: the browser keeps them only when Secure, for
# this host alone (no Domain) and path /, so no subdomain can set or read them. The prefix needs
# Secure, so a development server over plain http keeps the usual names.
SESSION_COOKIE_NAME = "__Host-sessionid" if HTTPS else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if HTTPS else "csrftoken"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Staff sessions end after 15 minutes without a request and 12 hours after signing in
# (accounts.middleware); the cookie lives no longer than the longest of them, and not past
# the browser's closing. Patients' link sessions keep their own 60 minutes (accounts.links).
STAFF_SESSION_IDLE_MINUTES = int(os.environ.get("STAFF_SESSION_IDLE_MINUTES", "15"))
STAFF_SESSION_MAX_HOURS = int(os.environ.get("STAFF_SESSION_MAX_HOURS", "12"))
SESSION_COOKIE_AGE = 60 * 60 * STAFF_SESSION_MAX_HOURS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
# Behind a proxy (a load balancer), the scheme and the client's address come from its headers.
BEHIND_PROXY = env_bool("BEHIND_PROXY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No page here uses a device or a payment API: every such feature is denied to it and to any frame.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "bluetooth",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}
CROSS_ORIGIN_RESOURCE_POLICY = "same-origin"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# Content Security Policy: everything from this origin, no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# Logging: to stderr; never request bodies (health information stays out of logs).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_tokens": {"()": "regenclinic.logfilters.RedactLinkTokens"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Each 4xx/5xx answer and each runserver request is logged with its path: a link's token masked.
        "django.request": {"filters": ["redact_tokens"]},
        "django.server": {"filters": ["redact_tokens"]},
        "django.db.backends": {"level": "WARNING"},
        # At DEBUG each variable a template cannot resolve is logged with the whole context (the form a
        # patient posted, her chart): never with LOG_LEVEL=DEBUG either (tests/test_canary.py).
        "django.template": {"level": "INFO"},
        # Each task start and finish is a line there; the worker logs its own summary instead.
        "django_tasks": {"level": "WARNING"},
        "django_tasks_db": {"level": "WARNING"},
        # django-axes narrates every failed sign-in at INFO; the audit log records them.
        "axes": {"level": "WARNING"},
        # WeasyPrint narrates each step of every PDF at INFO; only its warnings matter.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Sign-in lockout (django-axes): after SIGN_IN_FAILURE_LIMIT failures for one username, or
# SIGN_IN_ADDRESS_FAILURE_LIMIT from one address, sign-in is refused for SIGN_IN_LOCKOUT_MINUTES (each
# counted on its own: guessing many passwords for one account, or one password for many accounts; an
# office's staff share one address, so its limit is higher: accounts.lockout). A success clears the
# count. The attempts live in the database, so every app server sees them; `manage.py
# axes_reset_username` and `axes_reset_ip` (or the admin's "Access attempts") unlock at once.
AXES_HANDLER = "accounts.lockout.SeparateLimitsHandler"
AXES_FAILURE_LIMIT = max(1, int(os.environ.get("SIGN_IN_FAILURE_LIMIT", "5")))
SIGN_IN_ADDRESS_FAILURE_LIMIT = max(1, int(os.environ.get("SIGN_IN_ADDRESS_FAILURE_LIMIT", "20")))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("SIGN_IN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
# No per-request access log of its own: the audit log records sign-ins and lockouts.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

# The second step of sign-in (accounts.mfa): how authenticator apps name the account.
OTP_TOTP_ISSUER = "RegenClinic"
# Passkeys (accounts.passkeys): a second factor after the password, never a sign-in without one.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_RP_NAME = "RegenClinic"
# The relying party is the host the page was asked for (one of ALLOWED_HOSTS, without its port).
OTP_WEBAUTHN_HELPER_CLASS = "accounts.passkeys.PasskeyHelper"
OTP_WEBAUTHN_RP_ID_CALLABLE = "accounts.passkeys.relying_party_id"
# Where a passkey's answer may come from: each name in ALLOWED_HOSTS over HTTPS (PASSKEY_ORIGINS, comma-separated,
# for another port or scheme). `accounts.passkeys.PasskeyHelper` adds http://localhost on any port, for
# development and the browser tests: browsers treat localhost as secure.
OTP_WEBAUTHN_ALLOWED_ORIGINS = env_list(
    "PASSKEY_ORIGINS",
    ",".join(
        f"https://{host}" for host in ALLOWED_HOSTS if host != "*" and not host.startswith(".") and not is_address(host)
    ),
)
# A site served only at numbers (127.0.0.1, as the crash drill serves it) has no origin to list: passkeys work
# there at http://localhost only (browsers refuse them at a number), and django-otp-webauthn's check that the
# list is not empty (E030) would stop every command, `migrate` included.
SILENCED_SYSTEM_CHECKS = [] if OTP_WEBAUTHN_ALLOWED_ORIGINS else ["otp_webauthn.E030"]

# Break-glass: how long a clinician's stated reason opens one patient's records (accounts.break_glass).
BREAK_GLASS_MINUTES = 60

# The contact form's defences.
CONTACT_MIN_FILL_SECONDS = int(os.environ.get("CONTACT_MIN_FILL_SECONDS", "3"))
CONTACT_MAX_PER_HOUR = int(os.environ.get("CONTACT_MAX_PER_HOUR", "5"))

# Rate limits on the public forms and links (accounts.ratelimit), "count/period" per client address;
# `link_token` counts every address's tries at one token prefix. Counted in the default cache: shared by
# every app server with REDIS_URL, per process otherwise.
RATE_LIMITS = {
    "booking": os.environ.get("RATE_LIMIT_BOOKING", "20/h"),
    "callback": os.environ.get("RATE_LIMIT_CALLBACK", "10/h"),
    "contact": os.environ.get("RATE_LIMIT_CONTACT", "20/h"),
    "selfcheck": os.environ.get("RATE_LIMIT_SELFCHECK", "60/h"),
    "booking_link": os.environ.get("RATE_LIMIT_BOOKING_LINK", "60/h"),
    "patient_link": os.environ.get("RATE_LIMIT_PATIENT_LINK", "20/h"),
    "patient_form": os.environ.get("RATE_LIMIT_PATIENT_FORM", "300/h"),
    "link_token": os.environ.get("RATE_LIMIT_LINK_TOKEN", "30/h"),
}
# A counter the cache could not keep lets the request through (accounts.ratelimit logs it), as a cache
# that cannot be reached at all does.
RATELIMIT_FAIL_OPEN = True
