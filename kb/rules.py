"""Product rules as named constants; each can be overridden in settings.MIANJING."""

from django.conf import settings


def rule(name: str) -> int | str:
    return settings.MIANJING[name]
