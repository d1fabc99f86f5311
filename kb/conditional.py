"""Conditional GETs: strong ETags and Last-Modified from kb.selectors.validators, and 304 Not
Modified before anything is rendered (docs/api.md, "Conditional requests").

The ETag is a SHA-256 over the validator's fingerprint (the stored rows the response is made
from) and everything else the bytes depend on: the path with its query string, the viewer, the
language and the response format. Equal ETags mean equal bodies, so it is a strong ETag.

Last-Modified is when the response's content last changed, to the second. The rows' timestamps
alone do not say it: a vote, an accept, a moderator's action or an author's new reputation
change what a response shows without moving any `updated_at`. So the time a response's ETag was
first seen for its resource (path, viewer, language, format) is kept in the cache, and
Last-Modified is the later of that and the rows' newest timestamp. A change is seen only after it
commits, so it is never dated before a response that did not show it. Last-Modified is left out
while the content changed within the current second: a second change in that same second would
carry the same date, and If-Modified-Since would then hide it. A lost cache entry only makes the
date later (one more full response), never a stale 304."""

import hashlib
import time
from collections.abc import Callable
from functools import wraps

from django.core.cache import cache
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date, quote_etag

from kb.selectors.validators import Validator

VARY = ("Accept", "Accept-Language", "Cookie", "Authorization")


def viewer_key(user) -> str:
    if not user.is_authenticated:
        return "anonymous"
    from kb.permissions import is_moderator

    return f"user:{user.pk}:{int(is_moderator(user))}"


# How long the cache remembers when a resource's ETag first appeared; afterwards the next
# request dates the content anew (later, so never a stale 304).
FIRST_SEEN_SECONDS = 30 * 24 * 3600
clock = time.time  # tests set a fixed clock


def _digest(parts) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def _resource_parts(request, variant: str) -> tuple[str, ...]:
    return (
        request.get_full_path(),
        viewer_key(request.user),
        translation.get_language() or "",
        variant,
    )


def etag_for(request, validator: Validator, *, variant: str = "") -> str:
    return quote_etag(_digest((validator.fingerprint, *_resource_parts(request, variant))))


def last_modified_for(request, validator: Validator, etag: str, *, variant: str = "") -> int | None:
    """Whole seconds since the epoch when the content last changed, or None while it changed
    within the current second (module docstring)."""
    key = "conditional:first-seen:" + _digest(_resource_parts(request, variant))
    now = clock()
    seen = cache.get(key)
    if seen is None or seen[0] != etag:
        seen = (etag, now)
        cache.set(key, seen, FIRST_SEEN_SECONDS)
    changed = seen[1]
    if validator.last_modified is not None:
        changed = max(changed, validator.last_modified.timestamp())
    if int(changed) >= int(now):
        return None
    return int(changed)


def apply_validators(response, etag: str, last_modified: int | None):
    if response.status_code in (200, 304):
        response["ETag"] = etag
        if last_modified is not None:
            response["Last-Modified"] = http_date(last_modified)
    patch_vary_headers(response, VARY)
    return response


def not_modified_or_none(request, validator: Validator | None, *, variant: str = ""):
    """(304 response or None, (etag, last modified)); the caller renders when the first is None
    and hands the second to apply_validators."""
    if validator is None or request.method not in ("GET", "HEAD"):
        return None, None
    etag = etag_for(request, validator, variant=variant)
    last_modified = last_modified_for(request, validator, etag, variant=variant)
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is not None:
        apply_validators(response, etag, last_modified)
    return response, (etag, last_modified)


def conditional_api(validator_of: Callable):
    """For an APIView's get(self, request, **kwargs): `validator_of(view, request, **kwargs)`
    returns a Validator (one query) or None. Runs after DRF's authentication, permissions,
    throttles and content negotiation, so the response format is known."""

    def decorate(get):
        @wraps(get)
        def wrapped(self, request, *args, **kwargs):
            validator = validator_of(self, request, **kwargs)
            variant = getattr(request, "accepted_media_type", "") or ""
            response, validators = not_modified_or_none(request, validator, variant=variant)
            if response is not None:
                return response
            response = get(self, request, *args, **kwargs)
            if validators is not None:
                apply_validators(response, *validators)
            return response

        return wrapped

    return decorate
