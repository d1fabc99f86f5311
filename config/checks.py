"""Deployment checks of our own (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

LOCAL_MEMORY_CACHE = "django.core.cache.backends.locmem.LocMemCache"


@register(Tags.caches, deploy=True)
def shared_cache_check(app_configs, **kwargs):
    """A stateless web tier keeps nothing in a process that another needs: API throttles, the
    view-count buffer and the page cache's versions live in the cache, so it must be shared."""
    if settings.CACHES["default"]["BACKEND"] != LOCAL_MEMORY_CACHE:
        return []
    return [
        Warning(
            "The cache is this process's own memory: with several web processes (gunicorn "
            "workers, web servers) each counts API throttles and buffers view counts alone, "
            "and the anonymous page cache is off.",
            hint="Set REDIS_URL to a Redis server every web process shares.",
            id="mianjing.W001",
        )
    ]
