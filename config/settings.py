"""Mianjing settings: one module; whatever differs between machines comes from the environment."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG=0.")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG=0.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "accounts",
    "kb",
    "notifications",
    "practice",
]

MIDDLEWARE = [
    # /healthz and /readyz, before the Host check and the HTTPS redirect (config/health.py).
    "config.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Reads to replicas, read-your-writes (config/db_router.py); a no-op without replicas.
    "config.read_your_writes.ReadYourWritesMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Request logs and metrics (REQUEST_LOG_JSON, METRICS_ENABLED); static files are not counted.
    "config.observability.RequestObservabilityMiddleware",
    # After WhiteNoise (which serves static files precompressed): HTML and JSON, gzip with Django's
    # BREACH mitigation; secret-bearing pages opt out (config/compression.py).
    "config.compression.CompressionMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.language.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A member's write moves their own pages' version (kb/views/page_cache.py).
    "kb.views.page_cache.MemberWritesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "kb.request_guard.RequestGuardMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.inbox",
                "practice.context_processors.practice_due",
            ],
        },
    },
]

# --- Database: DATABASE_URL, or the embedded PostgreSQL under .data/postgres ---
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / ".data"))
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL:
    from config.embedded_db import embedded_database_url

    DATABASE_URL = embedded_database_url(DATA_DIR / "postgres")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Web requests (gunicorn, runserver, tests) run each statement for at most STATEMENT_TIMEOUT_MS;
# a slower one is cancelled and the request answers 503 (kb/request_guard.py). Set as a
# connection option, so it costs no query. manage.py commands (migrate, import_kb, bench data)
# are exempt: manage.py marks them with MIANJING_COMMAND=1.
STATEMENT_TIMEOUT_MS = int(os.environ.get("STATEMENT_TIMEOUT_MS", "5000"))
STATEMENT_TIMEOUT_OPTION = f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"
if os.environ.get("MIANJING_COMMAND") != "1" and STATEMENT_TIMEOUT_MS > 0:
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} {STATEMENT_TIMEOUT_OPTION}".strip()
# Read replicas (config/db_router.py, README "Read replicas"): DATABASE_REPLICA_URLS, comma-
# separated URLs of PostgreSQL streaming replicas of DATABASE_URL, become the aliases replica1,
# replica2, ... Web requests read from them; writes, transactions, select_for_update, a visitor's
# reads until a replica has replayed their last write, and management commands use the primary.
DATABASE_REPLICAS = []
for _number, _url in enumerate(env_list("DATABASE_REPLICA_URLS"), start=1):
    _alias = f"replica{_number}"
    DATABASES[_alias] = dj_database_url.parse(_url, conn_max_age=60)
    DATABASES[_alias]["CONN_HEALTH_CHECKS"] = True
    # A replica that is down must not hold a request for long: the primary answers instead.
    _replica_options = DATABASES[_alias].setdefault("OPTIONS", {})
    _replica_options.setdefault("connect_timeout", 2)
    if os.environ.get("MIANJING_COMMAND") != "1" and STATEMENT_TIMEOUT_MS > 0:
        _replica_options["options"] = (
            f"{_replica_options.get('options', '')} {STATEMENT_TIMEOUT_OPTION}".strip()
        )
    # Under tests a replica alias reads the test database (on the replica's server, where the
    # primary's test database streams); tests run in primary transactions, which read the primary.
    DATABASES[_alias]["TEST"] = {"MIRROR": "default"}
    DATABASE_REPLICAS.append(_alias)
DATABASE_ROUTERS = ["config.db_router.PrimaryReplicaRouter"]
# A replica lagging more than this is skipped; after a write, a visitor reads the primary until a
# replica has replayed it, for at most DATABASE_REPLICA_PIN_SECONDS; each process trusts what it
# last learnt of a replica's lag (or that it is down) for DATABASE_REPLICA_CHECK_SECONDS.
DATABASE_REPLICA_MAX_LAG_SECONDS = float(os.environ.get("DATABASE_REPLICA_MAX_LAG_SECONDS", "30"))
DATABASE_REPLICA_PIN_SECONDS = int(os.environ.get("DATABASE_REPLICA_PIN_SECONDS", "30"))
DATABASE_REPLICA_CHECK_SECONDS = float(os.environ.get("DATABASE_REPLICA_CHECK_SECONDS", "2"))
# Request bodies: Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE; JSON deeper than
# JSON_MAX_DEPTH is a 400 (kb.api_parsers.SafeJSONParser).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
JSON_MAX_DEPTH = 32
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: Redis when REDIS_URL is set, else local memory ---
REDIS_URL = os.environ.get("REDIS_URL", "")
# The versions the page cache checks (kb/services/page_cache.py) must be the same in every web
# process, or a write seen by one process would leave another serving an old page: Redis when
# there is one; without it, runserver's one process (DEBUG=1) keeps them in its memory and
# gunicorn's workers (DEBUG=0, `make serve`) share a directory under DATA_DIR.
PAGE_VERSIONS_CACHE = "page_versions"
if REDIS_URL:
    CACHES = {
        "default": {
            # django-redis keeps its client; Django's own Redis backend builds one per call
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "mianjing",
        }
    }
    PAGE_VERSIONS_CACHE = "default"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 3000},  # pages and answer blocks of the busiest questions
        },
        PAGE_VERSIONS_CACHE: {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "page-versions",
            "TIMEOUT": None,
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},  # a few bytes each; never culled in practice
        }
        if DEBUG
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache" / "page-versions"),
            "TIMEOUT": None,
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},
        },
    }

# Anonymous read pages from the versioned cache (kb/views/page_cache.py, docs/page-cache.md): on
# by default, under `make run` as under `make serve`, with or without Redis, so development sees
# what production serves. PAGE_CACHE=0 turns it off.
PAGE_CACHE_ENABLED = env_bool("PAGE_CACHE", True)
PAGE_CACHE_SECONDS = 24 * 3600  # an entry's life in the cache; versions, not time, keep it fresh
PAGE_CACHE_SHARED_SECONDS = int(os.environ.get("PAGE_CACHE_SHARED_SECONDS", "10"))  # s-maxage
# Members' pages too, each member their own entries, under the same versions plus their own
# (MEMBER_PAGE_CACHE=0 turns it off); an entry lives at most MEMBER_PAGE_SECONDS.
MEMBER_PAGE_CACHE_ENABLED = env_bool("MEMBER_PAGE_CACHE", True)
MEMBER_PAGE_SECONDS = int(os.environ.get("MEMBER_PAGE_SECONDS", "600"))

# --- Accounts ---
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.UsernameOrEmailBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "kb:home"
LOGOUT_REDIRECT_URL = "kb:home"
# Nothing a web process keeps is needed by another (README, "Scaling out"): sessions and django-axes
# lockouts in PostgreSQL (both Django's and axes's defaults, named here so they stay so), throttles
# and page-cache versions in the cache (Redis; `check --deploy` warns without it, config/checks.py).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout"  # our page, saying when to retry
AXES_USERNAME_CALLABLE = "accounts.backends.axes_username"  # one count per account

# --- Email: console by default, SMTP when EMAIL_HOST is set ---
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Mianjing <noreply@mianjing.local>")
# Absolute links in e-mail (no request to build them from).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Internationalisation: Chinese first, English under /en/ ---
LANGUAGE_CODE = "zh-hans"
# The site's public origin: the API's `url` and `html_url` links are built from it.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# The gzipped public dump the /data/ page offers: `manage.py export_kb --public --gzip` (cron).
PUBLIC_DUMP_PATH = Path(
    os.environ.get("PUBLIC_DUMP_PATH", DATA_DIR / "dumps" / "mianjing-public.jsonl.gz")
)
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

# --- Static files ---
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns at start-up when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "kb.api_pagination.PageNumberPagination",
    "PAGE_SIZE": 30,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "kb.api_errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "120/min"),
        "user": os.environ.get("API_THROTTLE_USER", "600/min"),
        "auth": os.environ.get("API_THROTTLE_AUTH", "10/min"),
    },
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PARSER_CLASSES": [
        "kb.api_parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Mianjing API",
    "DESCRIPTION": "面经: LLM and VLM interview questions, answers and their revision history.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kb.api_schema.add_error_responses",
    ],
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "QuestionStatusEnum": "kb.models.Question.Status",
        "RevisionStatusEnum": "kb.models.Revision.Status",
        "FlagStatusEnum": "kb.models.Flag.Status",
        "FlagReasonEnum": "kb.models.Flag.Reason",
        "CloseReasonEnum": "kb.models.Question.CloseReason",
    },
    # `check --deploy` is about deployment safety; the schema's own warnings are for
    # `manage.py spectacular --validate --fail-on-warn`.
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
}

# --- Security: strict when DEBUG=0 ---
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the progressive-enhancement scripts read it for fetch()
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp) on every response: only this site's own scripts, styles,
# fonts and frames; no inline script or style anywhere (templates load static files). Images may
# also come from https: (Markdown images in posts) and data: URIs (Swagger UI's icons).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:", "https:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^metrics$"]  # Prometheus scrapes each server over plain HTTP
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    # The JSON request lines (config/observability.py), one message each, through the console.
    "loggers": {"mianjing.requests": {"level": "INFO"}},
}

# --- Operations: request logs and metrics (config/observability.py, config/metrics.py) ---
# REQUEST_LOG_JSON=1: one JSON line per request on stderr (method, route, status, ms, queries,
# page-cache hit). METRICS_ENABLED=1 serves /metrics (Prometheus text); METRICS_TOKEN, when set,
# turns it on too and requires `Authorization: Bearer <token>`. Several gunicorn workers need
# PROMETHEUS_MULTIPROC_DIR (read by prometheus-client itself; see gunicorn.conf.py).
REQUEST_LOG_JSON = env_bool("REQUEST_LOG_JSON", False)
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ENABLED = env_bool("METRICS_ENABLED", bool(METRICS_TOKEN))

# --- Product rules (named constants, overridable here) ---
MIANJING = {
    "ANSWER_MIN_TEXT_LENGTH": 30,  # characters of rendered text, Markdown syntax not counted
    "RESUBMIT_WINDOW_SECONDS": 10 * 60,  # the same answer sent again within it is not repeated
    "TITLE_MIN_LENGTH": 6,  # Chinese is dense: 什么是RAG？ is a fine title
    "TITLE_MAX_LENGTH": 150,
    "BODY_MAX_LENGTH": 30000,
    "MAX_TAGS": 5,
    "COMMENT_EDIT_SECONDS": 300,
    "SYSTEM_USERNAME": "mianjing",
    # Moderation (kb/services/reviews.py, flags.py, closing.py, moderation.py, rate_limits.py).
    "REVIEW_VOTES_NEEDED": 2,  # approvals or rejections that decide a suggested edit
    "CLOSE_VOTES_NEEDED": 3,  # close (or reopen) votes that decide
    "FLAGS_PER_DAY": 10,
    "FLAGS_PER_DAY_MAX": 100,
    "HELPFUL_FLAGS_PER_EXTRA_FLAG": 10,  # one more flag a day per this many helpful flags
    "FLAGS_TO_HIDE": 4,  # pending spam or abusive flags that hide a post until a moderator acts
    "PROTECTED_ANSWER_REPUTATION": 10,  # answering a protected question
    "NEW_MEMBER_REPUTATION": 50,  # below this, the new-member write limits apply
    "NEW_MEMBER_QUESTION_INTERVAL_SECONDS": 10 * 60,
    "NEW_MEMBER_ANSWERS_PER_DAY": 10,
    "SUSPENSION_MAX_DAYS": 365,
    "LOCK_MAX_DAYS": 365,
    # View counts (kb/services/views.py): one a visitor, question and hour; written in batches.
    "VIEW_WINDOW_SECONDS": 3600,
    "VIEW_FLUSH_EVERY": 50,  # questions newly viewed since the last flush; also `flush_view_counts`
    # Voting (kb/services/votes.py); a "day" is a calendar day in TIME_ZONE.
    "VOTES_PER_DAY": 40,
    "VOTE_CHANGE_WINDOW_SECONDS": 5 * 60,  # then locked until the post is edited again
    # Reputation ledger amounts (kb/services/reputation.py); reversals use the recorded amount.
    "REPUTATION_QUESTION_UPVOTED": 10,
    "REPUTATION_ANSWER_UPVOTED": 10,
    "REPUTATION_DOWNVOTED": -2,
    "REPUTATION_DOWNVOTE_CAST": -1,  # casting a downvote on an answer
    "REPUTATION_ANSWER_ACCEPTED": 15,
    "REPUTATION_ACCEPTED_AN_ANSWER": 2,
    "REPUTATION_EDIT_APPROVED": 2,
    "REPUTATION_SPAM_REMOVED": -100,
    "REPUTATION_DAILY_CAP": 200,  # on reputation earned from upvotes; accepts are exempt
    "REPUTATION_GRANT_MAX": 100_000,  # largest single grant_reputation bonus
    # Privilege thresholds (kb/privileges.py), scaled for a young community.
    "PRIVILEGE_UPVOTE": 15,
    "PRIVILEGE_FLAG": 15,
    "PRIVILEGE_COMMENT": 50,  # on one's own posts and answers to one's question: always
    "PRIVILEGE_CREATE_TAG": 300,
    "PRIVILEGE_DOWNVOTE": 125,
    "PRIVILEGE_REVIEW_EDITS": 500,
    "PRIVILEGE_EDIT_DIRECTLY": 1000,
    "PRIVILEGE_CLOSE_VOTE": 1500,
    "PRIVILEGE_IMPORT": 2000,  # import interview-notes articles (kb.services.imports)
}
