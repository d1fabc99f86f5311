"""Which language a request is answered in.

- A page under /en/ is English; an unprefixed page is Chinese, the default, except that a visitor
  whose language is English is sent to the /en/ address. A visitor's language is the one they
  chose (the language cookie, set by the switch links and at log-in from the member's setting),
  else the first fitting one their browser asks for (Accept-Language).
- Everything outside the language-prefixed pages (the API) answers in the visitor's language and
  says so in Content-Language.
"""

from urllib.parse import quote

from django.conf import settings
from django.http import HttpResponseRedirect
from django.middleware.locale import LocaleMiddleware
from django.urls import is_valid_path
from django.utils import translation
from django.utils.cache import patch_vary_headers

API_PREFIX = "/api/"


def api_language(request) -> str:
    """The API follows Accept-Language first (what a client, or a page's script, asks for), then
    the cookie."""
    for code, _quality in translation.trans_real.parse_accept_lang_header(
        request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    ):
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return visitor_language(request)


def visitor_language(request) -> str:
    """The language cookie when it names a supported language, else Accept-Language's choice."""
    return translation.get_language_from_request(request, check_path=False)


class LanguageMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware (it also sets Content-Language), with the rules above."""

    def process_request(self, request):
        path = request.path_info
        urlconf = getattr(request, "urlconf", settings.ROOT_URLCONF)
        language = translation.get_language_from_path(path)
        unprefixed_page = language is None and not path.startswith(API_PREFIX)
        request.language_unprefixed_page = unprefixed_page
        if language is None:
            language = settings.LANGUAGE_CODE if unprefixed_page else api_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        if unprefixed_page and request.method in ("GET", "HEAD"):
            wanted = visitor_language(request)
            prefixed = f"/{wanted}{path}"
            with translation.override(wanted):  # the prefix pattern matches the active language
                moved = wanted != settings.LANGUAGE_CODE and is_valid_path(prefixed, urlconf)
            if moved:
                query = request.META.get("QUERY_STRING", "")
                target = quote(request.META.get("SCRIPT_NAME", "") + prefixed)
                return HttpResponseRedirect(target + (f"?{query}" if query else ""))
        return None

    def process_response(self, request, response):
        if getattr(request, "language_unprefixed_page", False):
            # What an unprefixed address shows depends on the visitor's language.
            patch_vary_headers(response, ("Accept-Language", "Cookie"))
        elif request.path_info.startswith(API_PREFIX):
            patch_vary_headers(response, ("Accept-Language",))
        return super().process_response(request, response)
