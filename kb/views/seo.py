"""robots.txt and /favicon.ico, served by the app at the site's root (docs/seo.md)."""

from django.contrib.sites.requests import RequestSite
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import http_date
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from kb.sitemaps import SITEMAPS, urlset_xml

# Addresses that are actions or per-visitor pages, not content: forms, votes, previews, queues,
# the API. `*` is understood by the major engines; each rule covers the /en/ prefix too.
ROBOTS_DISALLOW = (
    "/search/",
    "/en/search/",
    "/questions/ask/",
    "/en/questions/ask/",
    "/*/edit/",
    "/*/vote/",
    "/*/accept/",
    "/*/rollback/",
    "/*/diff/",
    "/*/answers/",
    "/*/comments/",
    "/comments/",
    "/en/comments/",
    "/preview/",
    "/en/preview/",
    "/tags/autocomplete/",
    "/en/tags/autocomplete/",
    "/review/",
    "/en/review/",
    "/moderation/",
    "/en/moderation/",
    "/accounts/settings/",
    "/en/accounts/settings/",
    "/accounts/tokens/",
    "/en/accounts/tokens/",
    "/admin/",
    "/en/admin/",
    "/api/",
    "/i18n/",
    "/language/",
)


@require_safe
@cache_control(max_age=86400, public=True)
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in ROBOTS_DISALLOW), ""]
    lines.append(f"Sitemap: {request.build_absolute_uri(reverse('sitemap_index'))}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@require_safe
@cache_control(max_age=604800, public=True)
def favicon(request: HttpRequest) -> FileResponse:
    """Browsers ask for /favicon.ico whatever the page links; the same file as static/kb's."""
    path = finders.find("kb/favicon.ico")
    if path is None:  # collected only (DEBUG=0 without the source tree's static/)
        if not staticfiles_storage.exists("kb/favicon.ico"):
            raise Http404
        return FileResponse(staticfiles_storage.open("kb/favicon.ico"), content_type="image/x-icon")
    return FileResponse(open(path, "rb"), content_type="image/x-icon")  # noqa: SIM115


@require_safe
def sitemap_section(request: HttpRequest, section: str) -> HttpResponse:
    """One page of a sitemap section: django.contrib.sitemaps.views.sitemap's logic (the
    section's get_urls, 404 past the last page, Last-Modified) with the XML written by
    `urlset_xml` instead of a template."""
    if section not in SITEMAPS:
        raise Http404(f"No sitemap section {section!r}")
    site = SITEMAPS[section]()
    try:
        urls = site.get_urls(
            page=request.GET.get("p", 1), site=RequestSite(request), protocol=request.scheme
        )
    except (EmptyPage, PageNotAnInteger) as error:
        raise Http404(f"No page {request.GET.get('p')!r}") from error
    response = HttpResponse(urlset_xml(urls), content_type="application/xml")
    latest = getattr(site, "latest_lastmod", None)
    if latest is not None:
        response.headers["Last-Modified"] = http_date(latest.timestamp())
    response.headers["X-Robots-Tag"] = "noindex"
    return response
