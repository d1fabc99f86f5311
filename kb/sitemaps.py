"""sitemap.xml with Django's sitemaps framework: an index, then sections of at most `limit` URLs.

Every page is listed in both languages (`/…` Chinese, `/en/…` English) with hreflang alternates
and x-default. Django's i18n sitemaps build the whole (item, language) list in memory before they
cut a page from it; at 100,000 questions that is every row on every request. `_LazyPairs` gives
the paginator the same sequence lazily instead: one COUNT for the number of pages, then one
LIMIT/OFFSET query over the primary key (an index scan) for the rows of the page asked for, as
`values()` dicts, not models. Addresses are formatted from one reversed pattern per language
rather than reversed 40,000 times a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from urllib.parse import quote
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sitemaps import Sitemap
from django.core.paginator import Paginator
from django.urls import reverse
from django.utils.translation import override

from kb.models import Question, Tag
from kb.templatetags.kb_pages import question_slug

# URLs per sitemap page, each language counted: well under the protocol's 50,000 (and 50 MB).
URLS_PER_PAGE = 10_000
_PK = 2_147_480_000  # placeholders that cannot occur in a real address
_SLUG = "slug-placeholder"


class _LazyPairs(Sequence):
    """(row, language) for each row of a queryset and each language, fetched one slice at a time."""

    def __init__(self, queryset, languages: list[str]):
        self.queryset = queryset
        self.languages = languages

    @cached_property
    def _rows(self) -> int:
        return self.queryset.count()

    def __len__(self) -> int:
        return self._rows * len(self.languages)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop, _step = index.indices(len(self))
        per_row = len(self.languages)
        first, last = start // per_row, -(-stop // per_row)
        pairs = [
            (row, language) for row in self.queryset[first:last] for language in self.languages
        ]
        return pairs[start - first * per_row : stop - first * per_row]


class _I18nSitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = True
    limit = URLS_PER_PAGE

    def _languages(self) -> list[str]:
        return [code for code, _name in settings.LANGUAGES]

    def _items(self):
        return _LazyPairs(self.items(), self._languages())

    @cached_property
    def paginator(self) -> Paginator:  # one COUNT per request, not one per use
        return Paginator(self._items(), self.limit)

    def location_in(self, item, language: str) -> str:
        with override(language):
            return self.location(item)

    def _urls(self, page, protocol, domain):
        """Sitemap._urls for i18n with alternates and x-default, computing an item's addresses
        once for all its languages (Django's computes them again for each (item, language) pair,
        under a translation override each time: 4 s for a page of 10,000)."""
        prefix = f"{protocol}://{domain}"
        languages = self._languages()
        has_lastmod = hasattr(self, "lastmod")
        urls, latest, done = [], None, (None, None, None)
        for item, language in self.paginator.page(page).object_list:
            if done[0] is not item:
                locations = {code: prefix + self.location_in(item, code) for code in languages}
                alternates = [
                    {"location": locations[code], "lang_code": code} for code in languages
                ]
                if settings.LANGUAGE_CODE in locations:
                    alternates.append(
                        {"location": locations[settings.LANGUAGE_CODE], "lang_code": "x-default"}
                    )
                done = (item, locations, alternates)
            _item, locations, alternates = done
            lastmod = self.lastmod(item) if has_lastmod else None
            if lastmod is not None and (latest is None or lastmod > latest):
                latest = lastmod
            urls.append(
                {
                    "item": (item, language),
                    "location": locations[language],
                    "lastmod": lastmod,
                    "changefreq": None,
                    "priority": "",
                    "alternates": alternates,
                }
            )
        if latest is not None:
            self.latest_lastmod = latest
        return urls


class QuestionSitemap(_I18nSitemap):
    """Every question a signed-out reader may see; lastmod is last_activity_at, which every
    revision of the question or of one of its answers sets (and a comment, which changes the
    page too)."""

    def items(self):
        return (
            Question.objects.visible_to(AnonymousUser())
            .order_by("pk")
            .values("pk", "title", "last_activity_at")
        )

    @cached_property
    def _patterns(self) -> dict[str, tuple[str, str]]:
        patterns = {}
        for language in self._languages():
            with override(language):
                patterns[language] = (
                    reverse("kb:question_detail", kwargs={"pk": _PK, "slug": _SLUG}),
                    reverse("kb:question_detail", kwargs={"pk": _PK}),
                )
        return patterns

    def location_in(self, item, language: str) -> str:
        with_slug, without_slug = self._patterns[language]
        slug = question_slug(item["title"])
        if not slug:
            return without_slug.replace(str(_PK), str(item["pk"]))
        return with_slug.replace(str(_PK), str(item["pk"])).replace(_SLUG, quote(slug))

    def lastmod(self, item):
        return item["last_activity_at"]

    def get_latest_lastmod(self):
        return (
            self.items()
            .order_by("-last_activity_at")
            .values_list("last_activity_at", flat=True)
            .first()
        )


class TagSitemap(_I18nSitemap):
    """Tags that have questions (an empty tag page says nothing to a search engine)."""

    def items(self):
        return Tag.objects.filter(question_count__gt=0).order_by("name").values("name")

    def location(self, item) -> str:
        return reverse("kb:tag_detail", kwargs={"name": item["name"]})


class PageSitemap(_I18nSitemap):
    """The pages that are not posts: home, the tag list, the member directory, the dataset page
    and the help topics."""

    def items(self):
        from kb.views.html import HELP_TOPICS

        return [
            ("kb:home", {}),
            ("kb:tag_list", {}),
            ("kb:user_list", {}),
            ("kb:data", {}),
            *(("kb:help", {"topic": topic}) for topic in HELP_TOPICS),
        ]

    def _items(self):
        return [(item, language) for item in self.items() for language in self._languages()]

    def location(self, item) -> str:
        name, kwargs = item
        return reverse(name, kwargs=kwargs)


SITEMAPS = {"pages": PageSitemap, "questions": QuestionSitemap, "tags": TagSitemap}


def urlset_xml(urls: list[dict]) -> str:
    """The <urlset> of a sitemap page, as Django's sitemap.xml template writes it (with xhtml
    alternates), built as a string: the template takes about a millisecond per URL, 10 s for a
    page of 10,000; this takes a few milliseconds in all."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:xhtml="http://www.w3.org/1999/xhtml">\n'
    ]
    for url in urls:
        parts.append(f"<url><loc>{escape(url['location'])}</loc>")
        if url["lastmod"]:
            parts.append(f"<lastmod>{url['lastmod'].date().isoformat()}</lastmod>")
        for alternate in url["alternates"]:
            parts.append(
                f'<xhtml:link rel="alternate" hreflang="{alternate["lang_code"]}" '
                f'href="{escape(alternate["location"])}"/>'
            )
        parts.append("</url>\n")
    parts.append("</urlset>\n")
    return "".join(parts)
