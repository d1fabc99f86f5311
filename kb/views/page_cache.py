"""The anonymous page cache: read pages for visitors who are not signed in, served from the shared
cache while every version they were rendered with is current (kb/services/page_cache.py), so a
page is never stale. docs/page-cache.md explains the keys, the headers and the purge path.

- Only GET/HEAD without a session cookie is anonymous; such a request never reads the session,
  so a page carries no per-visitor state (no session, no CSRF cookie).
- The key is the language and the full path with its query; the entry holds the page and the
  versions of what it shows (each view names them with `depend`).
- Signed-in members always get a fresh page marked `Cache-Control: private`.
- Headers let a shared cache in front store anonymous pages for a short while (`s-maxage`).
- With read replicas, a page that may be stored is rendered from the primary (config/db_router.py).
"""

import hashlib
import re
import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import (
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.crypto import salted_hmac
from django.utils.http import parse_http_date
from django.utils.translation import get_language

from config.db_router import primary_reads
from kb.conditional import VARY as CONDITIONAL_VARY
from kb.form_tokens import form_token_new
from kb.services import page_cache as versions

KEY_PREFIX = "page:"
HIT_HEADER = "X-Page-Cache"


def depend(request: HttpRequest, *names: str) -> None:
    """Record that the page being rendered shows what `names` version (no-op outside the cache)."""
    dependencies = getattr(request, "page_dependencies", None)
    if dependencies is not None:
        dependencies.update(names)


def depend_on_users(request: HttpRequest, user_ids) -> None:
    depend(request, *(versions.user_key(pk) for pk in user_ids if pk))


def is_anonymous_request(request: HttpRequest) -> bool:
    return (
        settings.PAGE_CACHE_ENABLED
        and request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


def page_key(request: HttpRequest) -> str:
    raw = f"{get_language()}|{request.get_full_path()}"
    return KEY_PREFIX + hashlib.sha256(raw.encode()).hexdigest()


def _public(response: HttpResponse) -> HttpResponse:
    patch_cache_control(
        response, public=True, max_age=0, s_maxage=settings.PAGE_CACHE_SHARED_SECONDS
    )
    # A shared cache must not hand a stored anonymous page to a member (who has a cookie).
    patch_vary_headers(response, ("Cookie",))
    return response


def _not_modified_or_none(request: HttpRequest, stored: dict) -> HttpResponse | None:
    if "ETag" not in stored and "Last-Modified" not in stored:
        return None
    last_modified = stored.get("Last-Modified")
    return get_conditional_response(
        request,
        etag=stored.get("ETag"),
        last_modified=int(parse_http_date(last_modified)) if last_modified else None,
    )


def _entry_current(entry: dict | None) -> bool:
    """A stored entry may be served while every version it was rendered with is current."""
    return entry is not None and versions.versions_get(entry["deps"]) == entry["deps"]


def _storable_render(request, render: Callable, *, dependencies=(), seconds: int):
    """Run `render()` for a response that may be stored for at most `seconds`: the view records
    what it shows (`depend`) and when it changes by itself (`expire_at`). Returns the response
    and the write sequence read before it, for `_store`. A page to be stored is read from the
    primary: one rendered from a replica that has not replayed the latest write would be stored
    under versions that are current."""
    sequence = versions.sequence_get()
    request.page_dependencies = set(dependencies)
    request.page_expires = time.time() + seconds
    with primary_reads("page cache"):
        return render(), sequence


def _rendered(view: Callable, request, args, kwargs) -> HttpResponse:
    """The view's response with its template rendered (a lazy queryset reads while it is)."""
    response = view(request, *args, **kwargs)
    return response.render() if hasattr(response, "render") else response


def _store(request, key: str, sequence, entry: dict) -> None:
    """Store `entry` under the versions of what its render showed, for what is left of its
    life; not if a write committed while it rendered (the sequence moved)."""
    current = versions.versions_get(request.page_dependencies)
    lifetime = int(request.page_expires - time.time())
    if lifetime > 0 and versions.sequence_get() == sequence:
        cache.set(key, {"deps": current, **entry}, lifetime)


def anonymous_page(
    view: Callable | None = None,
    *,
    on_hit: Callable | None = None,
    timeout: int | None = None,
):
    """Serve `view`'s 200 pages to anonymous visitors from the versioned cache. `on_hit(request,
    **kwargs)` runs on a hit for what a page view does besides rendering (counting a view)."""

    def decorate(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if not is_anonymous_request(request):
                if is_member_request(request):
                    return _member_page(request, view, on_hit, args, kwargs)
                response = view(request, *args, **kwargs)
                if request.method in ("GET", "HEAD"):
                    patch_cache_control(response, private=True)
                return response
            request.user = AnonymousUser()  # no session read: nothing per visitor in the page
            key = page_key(request)
            entry = cache.get(key)
            if _entry_current(entry):
                if on_hit is not None:
                    on_hit(request, **kwargs)
                # A current entry answers a conditional request too, by the validators its render
                # set (kb.conditional): a 304 without the view's validator query.
                response = _not_modified_or_none(request, entry.get("headers", {}))
                if response is None:
                    response = HttpResponse(entry["content"], content_type=entry["content_type"])
                for header, value in entry.get("headers", {}).items():
                    response[header] = value
                response[HIT_HEADER] = "hit"
                return _public(response)
            response, sequence = _storable_render(
                request,
                lambda: _rendered(view, request, args, kwargs),
                seconds=timeout or settings.PAGE_CACHE_SECONDS,
            )
            if response.status_code != 200 or response.streaming or response.cookies:
                return response
            _store(
                request,
                key,
                sequence,
                {
                    "content": response.content,
                    "content_type": response["Content-Type"],
                    "headers": {h: response[h] for h in ("ETag", "Last-Modified") if h in response},
                },
            )
            response[HIT_HEADER] = "miss"
            return _public(response)

        return wrapper

    return decorate(view) if view is not None else decorate


# --- Members' pages: the same versions, plus the viewer's own ------------------------------

MEMBER_KEY_PREFIX = "mpage:"
_CSRF_INPUT = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')
_FORM_TOKEN_INPUT = re.compile(r'(name="form_token" value=")[^"]*(")')
_DUE_BADGE = re.compile(r"<!--due-->.*?<!--/due-->", re.S)


def is_member_request(request: HttpRequest) -> bool:
    """A member's GET of a page that may come from their own cache: not while a message waits
    to be shown once (it is in the session, not in the versions)."""
    return (
        settings.PAGE_CACHE_ENABLED
        and settings.MEMBER_PAGE_CACHE_ENABLED
        and request.method in ("GET", "HEAD")
        and request.user.is_authenticated
        and not len(getattr(request, "_messages", ()))
    )


def member_page_key(request: HttpRequest) -> str:
    raw = "|".join(
        (
            get_language() or "",
            timezone.get_current_timezone_name(),
            str(request.user.pk),
            request.get_full_path(),
        )
    )
    return MEMBER_KEY_PREFIX + hashlib.sha256(raw.encode()).hexdigest()


def expire_at(request: HttpRequest, when) -> None:
    """Record that the page being rendered changes by itself at `when` (a lock or a suspension
    ends, an edit window closes): a cached copy lives no longer. A time already past (a lock
    that has ended) changes nothing more: the render shows it as ended."""
    if when is None or getattr(request, "page_expires", None) is None:
        return
    moment = when.timestamp()
    if moment > time.time():
        request.page_expires = min(request.page_expires, moment)


def _slot(name: str) -> str:
    # Made with the secret key, so no text a member writes can stand for one.
    return "mj-slot-" + salted_hmac("kb.page_cache.member_slot", name).hexdigest()[:24]


def _member_slots(content: str) -> str:
    """The page as stored: what must be new on every response replaced by slots (the CSRF
    token, one-time form tokens, the practice badge that moves with the clock)."""
    content = _CSRF_INPUT.sub(lambda m: m[1] + _slot("csrf") + m[2], content)
    content = _FORM_TOKEN_INPUT.sub(lambda m: m[1] + _slot("form-token") + m[2], content)
    return _DUE_BADGE.sub(_slot("due"), content)


def _member_fill(request: HttpRequest, content: str) -> str:
    csrf, form_token, due = _slot("csrf"), _slot("form-token"), _slot("due")
    if csrf in content:
        content = content.replace(csrf, get_token(request))
    if form_token in content:
        parts = content.split(form_token)
        content = parts[0] + "".join(form_token_new() + part for part in parts[1:])
    if due in content:
        content = content.replace(
            due, render_to_string("practice/_due_badge.html", request=request)
        )
    return content


def _member_page(request: HttpRequest, view: Callable, on_hit, args, kwargs) -> HttpResponse:
    """A member's page from their own entry: keyed by the viewer, the path and the language, and
    current while every version it was rendered with is (the page's, the viewer's name and
    reputation, and `viewer:<id>`, moved by each of their writes and by what others do to
    them), and for at most MEMBER_PAGE_SECONDS or until `expire_at`. Tokens are new on every
    response."""
    key = member_page_key(request)
    # A reload that asks for a fresh page (Cache-Control: no-cache) renders it anew.
    entry = None if "no-cache" in request.headers.get("Cache-Control", "") else cache.get(key)
    if _entry_current(entry):
        if on_hit is not None:
            on_hit(request, **kwargs)
        response = HttpResponse(
            _member_fill(request, entry["content"]), content_type=entry["content_type"]
        )
        response[HIT_HEADER] = "hit"
        patch_cache_control(response, private=True)
        return response
    user = request.user
    response, sequence = _storable_render(
        request,
        lambda: _rendered(view, request, args, kwargs),
        dependencies=(versions.viewer_key(user.pk), versions.user_key(user.pk)),
        seconds=settings.MEMBER_PAGE_SECONDS,
    )
    expire_at(request, user.suspended_until)  # the rulebook reads it on every page
    patch_cache_control(response, private=True)
    if response.status_code != 200 or response.streaming or request.session.modified:
        return response
    _store(
        request,
        key,
        sequence,
        {
            "content": _member_slots(response.content.decode(response.charset)),
            "content_type": response["Content-Type"],
        },
    )
    response[HIT_HEADER] = "miss"
    return response


def member_page(view: Callable) -> Callable:
    """Serve a members-only page (`view` names what it shows with `depend`) from the member's
    own cache, as `anonymous_page` does for members."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if is_member_request(request):
            return _member_page(request, view, None, args, kwargs)
        response = view(request, *args, **kwargs)
        patch_cache_control(response, private=True)
        return response

    return wrapper


class MemberWritesMiddleware:
    """Every write a member sends (a page's form or the API) may change what their own pages
    show (their vote, a follow, a draft, the privileges it used up): it moves their
    `viewer:<id>` version, after the view, so their next page is rendered anew."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                versions.viewer_changed(user.pk)
        return response


# --- The API: anonymous JSON from the same versioned cache -----------------------------------

API_KEY_PREFIX = "api:"


def _api_key(request) -> str | None:
    """The cache key of an anonymous JSON GET to a DRF view (after DRF's authentication and
    content negotiation), or None when the response is not shared: a signed-in caller (token or
    session), the browsable API, the cache turned off."""
    if (
        not settings.PAGE_CACHE_ENABLED
        or request.method not in ("GET", "HEAD")
        or request.user.is_authenticated
        or getattr(request.accepted_renderer, "format", "") != "json"
    ):
        return None
    raw = f"{get_language()}|{request.get_full_path()}|{request.accepted_media_type}"
    return API_KEY_PREFIX + hashlib.sha256(raw.encode()).hexdigest()


def anonymous_api(get: Callable) -> Callable:
    """For the get(self, request, **kwargs) of an APIView with AnonymousApiCacheMixin, outside
    kb.conditional.conditional_api: an anonymous caller is answered from the versioned cache (the
    bytes, ETag and Last-Modified stored by the render), a 304 when If-None-Match or
    If-Modified-Since still holds, without reading the database. The key is the language, the
    path with its query (so ?fields= and ?include= are stored apart) and the media type."""

    @wraps(get)
    def wrapper(self, request, *args, **kwargs):
        key = _api_key(request)
        if key is None:
            return get(self, request, *args, **kwargs)
        entry = cache.get(key)
        if _entry_current(entry):
            response = _not_modified_or_none(request, entry["headers"])
            if response is None:
                response = HttpResponse(entry["content"], content_type=entry["content_type"])
            for header, value in entry["headers"].items():
                response[header] = value
            patch_vary_headers(response, CONDITIONAL_VARY)
            response[HIT_HEADER] = "hit"
            return response
        # DRF renders the response later (finalize_response), the mixin stores it then.
        response, sequence = _storable_render(
            request,
            lambda: get(self, request, *args, **kwargs),
            seconds=settings.PAGE_CACHE_SECONDS,
        )
        request.page_cache_entry = (key, sequence)
        return response

    return wrapper


class AnonymousApiCacheMixin:
    """Stores what `anonymous_api` missed: the rendered 200, once DRF has chosen its renderer
    and applied ?fields= (so this mixin comes first among the bases)."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        pending = getattr(request, "page_cache_entry", None)
        if pending is None or response.status_code != 200 or not hasattr(response, "render"):
            return response
        key, sequence = pending
        response.render()
        _store(
            request,
            key,
            sequence,
            {
                "content": response.content,
                "content_type": response["Content-Type"],
                "headers": {
                    h: response[h] for h in ("ETag", "Last-Modified", "Allow") if h in response
                },
            },
        )
        response[HIT_HEADER] = "miss"
        return response


# --- Fragments: the viewer-independent blocks of members' pages ------------------------------

FRAGMENT_PREFIX = "frag:"


def fragment_key(name: str, *parts) -> str:
    """The key of a block of HTML that is the same for every viewer: its name, what it shows
    (immutable ids, or the shown values themselves) and the language."""
    raw = "\x1f".join([get_language() or "", name, *map(str, parts)])
    return FRAGMENT_PREFIX + hashlib.sha256(raw.encode()).hexdigest()


FRAGMENT_HEADER = "X-Fragment-Cache"  # "found/blocks" on the page (the bench counts them)


def fragments_render(
    blocks: dict[str, tuple[str, dict]], *, store: bool
) -> tuple[dict[str, str], int]:
    """{key: (template, context)} -> ({key: HTML}, how many came from the cache): the cached
    blocks in one cache read, the others rendered (and stored in one write when `store`). A block
    must show nothing per viewer; its key is made of everything it shows, so a stored block is
    never stale."""
    from django.template.loader import get_template
    from django.utils.safestring import mark_safe

    found = cache.get_many(list(blocks)) if blocks else {}
    rendered = {}
    for key, (template_name, context) in blocks.items():
        if key not in found:
            rendered[key] = get_template(template_name).render(context)
    if rendered and store:
        cache.set_many(rendered, settings.PAGE_CACHE_SECONDS)
    html = {key: mark_safe(found[key] if key in found else rendered[key]) for key in blocks}  # noqa: S308
    return html, len(found)
