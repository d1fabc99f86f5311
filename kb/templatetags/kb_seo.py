"""The head of every page for search engines and link previews (kb/seo.py, docs/seo.md)."""

from django import template
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from kb import seo

register = template.Library()


class CaptureNode(template.Node):
    def __init__(self, nodelist, name: str):
        self.nodelist = nodelist
        self.name = name

    def render(self, context) -> str:
        # Rendered with autoescaping, so safe; tags stripped: a title or description is text.
        context[self.name] = mark_safe(strip_tags(self.nodelist.render(context)).strip())  # noqa: S308
        return ""


@register.tag
def capture(parser, token):
    """`{% capture name %}…{% endcapture %}`: render once, use twice (a page's title block goes
    into <title>, og:title and twitter:title)."""
    try:
        _tag, name = token.split_contents()
    except ValueError as error:
        raise template.TemplateSyntaxError("usage: {% capture name %}…{% endcapture %}") from error
    nodelist = parser.parse(("endcapture",))
    parser.delete_first_token()
    return CaptureNode(nodelist, name)


@register.inclusion_tag("kb/includes/_seo_head.html", takes_context=True)
def seo_head(context, title: str, description: str, robots: str = "") -> dict:
    """Robots rules, canonical and hreflang links, Open Graph and Twitter card tags.

    Not indexed (`noindex, follow`): what a page's `robots` block asks (search results, deleted
    or hidden posts) and every list page after the first. A page that is not indexed names no
    canonical address or alternates (they would contradict the noindex)."""
    request = context["request"]
    number = seo.page_number(context)
    if number > 1 and not robots:
        robots = "noindex, follow"
    # A view may name the page's address (a question's, with its slug, also when the page is
    # shown again after a refused answer was posted elsewhere).
    path = context.get("canonical_path") or seo.canonical_path(request, number)
    canonical = request.build_absolute_uri(path)
    language = get_language()
    return {
        "title": title,
        "description": description,
        "robots": robots,
        "canonical": "" if robots else canonical,
        "alternates": [] if robots else seo.alternates(request, path),
        "url": canonical,
        "og_type": context.get("og_type", "website"),
        "og_locale": seo.OG_LOCALES.get(language, "zh_CN"),
        "og_locale_alternates": [v for k, v in seo.OG_LOCALES.items() if k != language],
    }
