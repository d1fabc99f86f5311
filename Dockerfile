# The Mianjing web image: gunicorn + whitenoise with DEBUG=0. Everything that differs between
# deployments comes from the environment when the container starts (README, "Configuration");
# the image holds no secret. docker-compose.yml runs it next to PostgreSQL and Redis.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
# gettext for compilemessages; it stays in this stage.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY . .
RUN pip install . && rm -rf build ./*.egg-info
# Settings for the build only; none of them reaches the final image. These commands never touch a
# database, and a DATABASE_URL keeps settings from starting the embedded server.
RUN export DEBUG=0 SECRET_KEY=build-only-not-a-secret ALLOWED_HOSTS=build \
        DATABASE_URL=postgres://build@build.invalid/build \
    && python manage.py compilemessages \
    && python manage.py collectstatic --noinput

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DEBUG=0
RUN useradd --system --uid 10001 --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin mianjing
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
# Code and collected static files belong to root: the app can read them, not change them.
USER mianjing
EXPOSE 8000
# Liveness: /healthz (database and cache reachable), answered before Django's Host check and the
# HTTPS redirect (config/health.py), so it works whatever ALLOWED_HOSTS says.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request as r; r.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# Migrate, load the starter content into an empty database, then serve.
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py load_starter --if-empty && exec gunicorn config.wsgi --bind 0.0.0.0:8000 --workers \"${WEB_CONCURRENCY:-2}\" --access-logfile -"]
