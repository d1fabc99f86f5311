"""One-time form tokens: the ask and answer forms carry a hidden random token, so the same form
sent twice (Back and submit again, a double click, a retry after a timeout) makes one post and
lands on it the second time.

The first POST claims the token (an atomic cache add, so two concurrent POSTs cannot both make a
post), keeps the new post's id under it when the post is made, and frees it when the form is
refused (the member fixes the text and sends the same form again). Tokens live for a day; the
same answer body within minutes is also caught by kb.services.answers.
"""

import secrets

from django.core.cache import cache

FORM_TOKEN_TTL = 24 * 60 * 60
IN_FLIGHT = 0  # claimed, post not made yet


def form_token_new() -> str:
    return secrets.token_urlsafe(16)


def _key(*, user, kind: str, token: str) -> str:
    return f"form-token:{kind}:{user.pk}:{token}"


def form_token_claim(*, user, kind: str, token: str) -> int | None:
    """Claim `token` for a new post of `kind` by `user`. Returns None when the form is new (go
    ahead and make the post), else the id of the post it made (IN_FLIGHT, 0, while the first
    submission is still being made). A missing or malformed token claims nothing: the form is
    treated as new."""
    if not token or len(token) > 64 or not token.replace("-", "").replace("_", "").isalnum():
        return None
    key = _key(user=user, kind=kind, token=token)
    if cache.add(key, IN_FLIGHT, FORM_TOKEN_TTL):
        return None
    return cache.get(key, IN_FLIGHT)


def form_token_done(*, user, kind: str, token: str, post_id: int) -> None:
    if token and len(token) <= 64:
        cache.set(_key(user=user, kind=kind, token=token), post_id, FORM_TOKEN_TTL)


def form_token_release(*, user, kind: str, token: str) -> None:
    """The form was refused (a validation error): the same token may be sent again."""
    if token and len(token) <= 64:
        cache.delete(_key(user=user, kind=kind, token=token))
