"""Conditional GETs: strong ETags and Last-Modified from kb.selectors.validators, and 304 Not
Modified before anything is rendered (docs/api.md, "Conditional requests").

The ETag is a SHA-256 over the validator's fingerprint (the stored rows the response is made
from) and everything else the bytes depend on: the path with its query string, the viewer, the
language and the response format. Equal ETags mean equal bodies, so it is a strong ETag."""

import hashlib
from collections.abc import Callable
from functools import wraps

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


def etag_for(request, validator: Validator, *, variant: str = "") -> str:
    parts = (
        validator.fingerprint,
        request.get_full_path(),
        viewer_key(request.user),
        translation.get_language() or "",
        variant,
    )
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]
    return quote_etag(digest)


def apply_validators(response, etag: str, validator: Validator):
    if response.status_code == 200:
        response["ETag"] = etag
        if validator.last_modified is not None:
            response["Last-Modified"] = http_date(validator.last_modified.timestamp())
    patch_vary_headers(response, VARY)
    return response


def not_modified_or_none(request, validator: Validator | None, *, variant: str = ""):
    """(304 response or None, etag); the caller renders when the first is None."""
    if validator is None or request.method not in ("GET", "HEAD"):
        return None, None
    etag = etag_for(request, validator, variant=variant)
    last_modified = (
        int(validator.last_modified.timestamp()) if validator.last_modified is not None else None
    )
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is not None:
        apply_validators(response, etag, validator)
        response["ETag"] = etag
    return response, etag


def conditional_api(validator_of: Callable):
    """For an APIView's get(self, request, **kwargs): `validator_of(view, request, **kwargs)`
    returns a Validator (one query) or None. Runs after DRF's authentication, permissions,
    throttles and content negotiation, so the response format is known."""

    def decorate(get):
        @wraps(get)
        def wrapped(self, request, *args, **kwargs):
            validator = validator_of(self, request, **kwargs)
            variant = getattr(request, "accepted_media_type", "") or ""
            response, etag = not_modified_or_none(request, validator, variant=variant)
            if response is not None:
                return response
            response = get(self, request, *args, **kwargs)
            if etag is not None:
                apply_validators(response, etag, validator)
            return response

        return wrapped

    return decorate
