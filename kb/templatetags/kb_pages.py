"""Small helpers for the read pages: canonical question links, cached links to tags and members."""

import re
from functools import lru_cache

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import get_language_from_path

from kb.addresses import (  # noqa: F401 (the tags' names for templates and views)
    cached_reverse,
    question_slug,
    question_url,
)
from kb.models import Answer

register = template.Library()


@register.simple_tag
def question_link(question) -> str:
    return question_url(question)


@register.simple_tag
def post_action_link(post, action: str) -> str:
    """A question's or an answer's own page for `action` (history, edit, comment):
    kb:question_<action> or kb:answer_<action>."""
    kind = "answer" if isinstance(post, Answer) else "question"
    return cached_reverse(f"kb:{kind}_{action}", pk=post.pk)


@register.simple_tag
def tag_link(name: str) -> str:
    return cached_reverse("kb:tag_detail", name=name)


@register.simple_tag
def user_link(user) -> str:
    return cached_reverse("kb:user_detail", username=user.username)


@register.simple_tag
def timestamp(when, css_class: str = "") -> str:
    """`<time>` with the moment for machines and the exact local time as its text; static
    kb/time.js turns the text into "3 days ago" in the browser (keeping the exact time on hover),
    so a cached page never says a stale "3 minutes ago". One tag instead of three filters: a page
    shows dozens of these."""
    if when is None:
        return ""
    local = timezone.localtime(when)
    exact = date_format(local, "DATETIME_FORMAT")
    return format_html(
        '<time{} datetime="{}" title="{}" data-relative>{}</time>',
        format_html(' class="{}"', css_class) if css_class else "",
        local.isoformat(),
        exact,
        exact,
    )


def keyset_param(param: str) -> str:
    """The keyset parameter beside a page-number parameter: page -> after, x_page -> x_after."""
    return "after" if param == "page" else param.removesuffix("_page") + "_after"


@register.inclusion_tag("kb/includes/_pagination.html", takes_context=True)
def pagination(context, page, param: str = "page") -> dict:
    """Page links that keep the other query parameters (tab, q, sort): 1 … 4 5 [6] 7 8 … 20,
    and an "Older" link that pages by keyset (kb.views.html._page) from the last row shown. On a
    keyset page, "Newest" leads back to page 1 and the numbers stay."""
    after = keyset_param(param)

    def url(number: int) -> str:
        query = context["request"].GET.copy()
        query.pop(after, None)
        query[param] = number
        return f"?{query.urlencode()}"

    def older(cursor: str) -> str:
        query = context["request"].GET.copy()
        query.pop(param, None)
        query[after] = cursor
        return f"?{query.urlencode()}"

    keyset = getattr(page, "keyset", False)
    cursor = getattr(page, "older_cursor", "")
    links = []
    for number in page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1):
        if number == page.paginator.ELLIPSIS:
            links.append({"ellipsis": True})
        else:
            current = number == page.number and not keyset
            links.append({"number": number, "url": url(number), "current": current})
    return {
        "page": page,
        "links": links,
        "previous_url": url(page.previous_page_number()) if page.has_previous() else "",
        "next_url": url(page.next_page_number()) if page.has_next() and not keyset else "",
        "newest_url": url(1) if keyset else "",
        "older_url": older(cursor) if cursor else "",
        "has_other_pages": page.has_other_pages() or keyset,
    }


@register.simple_tag(takes_context=True)
def path_without_language(context) -> str:
    """The current address without its /en/ prefix, as `next` for the language switch, which
    moves an address of the default language into the chosen one."""
    request = context["request"]
    path = request.get_full_path()
    language = get_language_from_path(request.path_info)
    if language:
        prefix = f"/{language}/"
        if path.startswith(prefix):
            return "/" + path[len(prefix) :]
    return path


@lru_cache(maxsize=8192)
def _inline_markdown(text: str) -> str:
    from kb.markdown import render_comment

    return render_comment(text)


@register.filter
def inline_markdown(text: str) -> str:
    """Short Markdown (a key point, a follow-up): emphasis, code, links, inline formulas; the
    result depends only on the text, so it is cached."""
    from django.utils.safestring import mark_safe

    return mark_safe(_inline_markdown(text))  # noqa: S308 (sanitised by kb.markdown)


@register.filter
def difficulty_label(value: str) -> str:
    from kb.interview import difficulty_label as label

    return label(value)


@register.simple_tag
def follow_up_link(follow_up: dict) -> str:
    """The page of the question a follow-up points to, or "" when it points to none."""
    question_id = follow_up.get("question_id")
    return cached_reverse("kb:question_detail", pk=question_id) if question_id else ""


# Han characters (CJK Unified Ideographs and Extension A, compatibility ideographs).
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@register.filter
def text_lang(text) -> str:
    """The language of a post's text for its `lang` attribute: zh-Hans when it has any Han
    character (Chinese posts mix in English terms, never the other way round), else en. On /en/
    pages this tells screen readers and fonts that a Chinese title is Chinese (WCAG 3.1.2)."""
    return "zh-Hans" if _HAN.search(str(text or "")) else "en"
