"""Read-your-writes with read replicas (config/db_router.py).

For each request the middleware opens a `RequestRouting`: unsafe methods read the primary; a
request carrying the `mj_lsn` cookie reads a replica only once that replica has replayed the WAL
position in the cookie. A request that wrote (any `db_for_write`, session saves included) gets the
cookie: the primary's WAL position after the write committed and when, signed, living
`DATABASE_REPLICA_PIN_SECONDS`. The cookie belongs to the browser (member or anonymous
visitor), so it works whichever web server the next request reaches; nothing is kept in a process.

A replica that fails during a GET or HEAD request that has not written is marked down and the
request is answered again from the primary, so a replica stopping is never an error page.

Without DATABASE_REPLICA_URLS the middleware does nothing and costs nothing.
"""

import time

from django.conf import settings
from django.core import signing
from django.utils.cache import patch_cache_control

from config import db_router

COOKIE_NAME = "mj_lsn"
COOKIE_SALT = "mianjing.read-your-writes"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def written_lsn(request) -> int | None:
    """The WAL position of this visitor's last write while it is recent enough to matter."""
    raw = request.COOKIES.get(COOKIE_NAME)
    if not raw:
        return None
    try:
        value = signing.Signer(salt=COOKIE_SALT).unsign(raw)
        lsn, written_at = (int(part) for part in value.split(":"))
    except (signing.BadSignature, ValueError):
        return None
    if time.time() - written_at > settings.DATABASE_REPLICA_PIN_SECONDS:
        return None
    return lsn


def remember_write(response, lsn: int) -> None:
    """Set the cookie; a response carrying it is this visitor's own, never a shared cache's."""
    value = signing.Signer(salt=COOKIE_SALT).sign(f"{lsn}:{int(time.time())}")
    patch_cache_control(response, private=True)
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=settings.DATABASE_REPLICA_PIN_SECONDS,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


class ReadYourWritesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not db_router.replica_aliases():
            return self.get_response(request)
        routing = db_router.RequestRouting(
            pinned=None if request.method in SAFE_METHODS else "unsafe method",
            min_lsn=written_lsn(request),
        )
        with db_router.request_routing(routing):
            response = self.get_response(request)
        if routing.replica_failed and not routing.wrote and request.method in SAFE_METHODS:
            db_router.replica_mark_down(routing.replica, "failed during a request")
            routing = db_router.RequestRouting(pinned="replica failed")
            with db_router.request_routing(routing):
                response = self.get_response(request)
        if routing.wrote and response.status_code < 500:
            remember_write(response, db_router.primary_lsn())
        return response
