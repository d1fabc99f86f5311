"""A question's slug and the addresses pages repeat: pure functions of ids, titles and the
URLconf, read by template tags (kb.templatetags.kb_pages), selectors, feeds and the sitemaps
alike (selectors import no template tags, so these live here)."""

from functools import lru_cache

from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.text import slugify
from django.utils.translation import get_language

# Addresses under /questions/<id>/ that a slug must not take (kb/urls.py).
RESERVED_SLUGS = {"revisions", "edit", "diff", "rollback", "answers", "comments"}


def question_slug(title: str) -> str:
    """The slug that follows a question's id in its canonical address (Chinese kept as is); empty
    when the title would spell one of the question's own pages, e.g. a title "Rollback"."""
    slug = slugify(title, allow_unicode=True)[:80].strip("-")
    return "" if slug in RESERVED_SLUGS else slug


@lru_cache(maxsize=20_000)
def _reverse(urlconf, script_prefix: str, language: str, viewname: str, kwargs: tuple) -> str:
    return reverse(viewname, kwargs=dict(kwargs))


def cached_reverse(viewname: str, /, **kwargs) -> str:
    """reverse() for the links a page repeats: it costs about 70 µs, and a list page links 30
    questions, their authors and 150 tags. The address depends on nothing but these arguments,
    the URLconf, the script prefix and the language (/en/), which are the cache key."""
    key = tuple(sorted(kwargs.items()))
    return _reverse(get_urlconf(), get_script_prefix(), get_language(), viewname, key)


def question_url(question) -> str:
    """`/questions/<id>/<slug>/`, or `/questions/<id>/` when the title has no word characters."""
    slug = question_slug(question.title)
    if not slug:
        return cached_reverse("kb:question_detail", pk=question.pk)
    return cached_reverse("kb:question_detail", pk=question.pk, slug=slug)
