"""What search engines read: descriptions, canonical and alternate addresses, robots rules and the
schema.org QAPage JSON-LD of a question page (docs/seo.md).

Pure functions over what a page already loaded: none of them queries the database.
"""

from __future__ import annotations

import html
import json
import re
from urllib.parse import urlencode

from django.conf import settings
from django.urls import translate_url
from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from kb.templatetags.kb_pages import question_url, text_lang, user_link

DESCRIPTION_LENGTH = 155
# Query parameters that choose what a list page shows; any other one (tracking tags, a `next`) is
# not part of the page's identity and is dropped from its canonical address.
CANONICAL_PARAMETERS = ("tab", "sort", "page")
LANGUAGE_TAGS = {"zh-hans": "zh-Hans", "en": "en"}  # Django's codes -> BCP 47 for hreflang
OG_LOCALES = {"zh-hans": "zh_CN", "en": "en_US"}

_MATH = re.compile(r"<math\b.*?</math>", re.DOTALL)
_PRE = re.compile(r"<pre\b.*?</pre>", re.DOTALL)
_SPACE = re.compile(r"\s+")


def plain_text(body_html: str) -> str:
    """A post's rendered HTML as one line of text: formulas and code blocks dropped (their markup
    reads as noise out of context), tags stripped, whitespace collapsed."""
    text = html.unescape(strip_tags(_PRE.sub(" ", _MATH.sub(" … ", body_html or ""))))
    return _SPACE.sub(" ", text).strip()


def description(body_html: str, length: int = DESCRIPTION_LENGTH) -> str:
    """The meta description of a post's page: the start of its text, cut at a word."""
    return Truncator(plain_text(body_html)).chars(length)


def page_number(context) -> int:
    page = context.get("page")
    number = getattr(page, "number", None)
    if number is None:
        try:
            number = int(context["request"].GET.get("page", 1))
        except (TypeError, ValueError):
            number = 1
    return number


def canonical_path(request, number: int) -> str:
    """The page's own path with only the parameters that choose its content (page 1 unsaid)."""
    params = []
    for name in CANONICAL_PARAMETERS:
        value = request.GET.get(name)
        if name == "page":
            value = str(number) if number > 1 else None
        if value:
            params.append((name, value))
    return request.path + (f"?{urlencode(params)}" if params else "")


def alternates(request, path: str) -> list[tuple[str, str]]:
    """(hreflang, absolute URL) for each language of the page, then x-default (Chinese, the
    default language, served without a prefix)."""
    links = []
    for code, _name in settings.LANGUAGES:
        links.append(
            (LANGUAGE_TAGS.get(code, code), request.build_absolute_uri(translate_url(path, code)))
        )
    default = request.build_absolute_uri(translate_url(path, settings.LANGUAGE_CODE))
    links.append(("x-default", default))
    return links


def _person(request, user) -> dict:
    return {
        "@type": "Person",
        "name": user.shown_name,
        "url": request.build_absolute_uri(user_link(user)),
    }


def _answer(request, question_address: str, answer) -> dict:
    return {
        "@type": "Answer",
        "text": plain_text(answer.body_html),
        "inLanguage": text_lang(answer.body_html),
        "dateCreated": answer.created_at.isoformat(),
        "datePublished": answer.created_at.isoformat(),
        "dateModified": answer.updated_at.isoformat(),
        "upvoteCount": answer.score,
        "url": f"{question_address}#answer-{answer.pk}",
        "author": _person(request, answer.author),
    }


def qa_page(request, question, answers) -> dict | None:
    """schema.org QAPage for a question page, as Google's Q&A rich results describe it: the
    question (name, text, answerCount, upvoteCount, dates, author) with its accepted answer and
    the others as suggested answers. Only answers every reader sees count (a moderator's view
    shows deleted ones too); a question without one gets no QAPage (Google requires an answer).
    Scores are net votes: Google asks for one aggregate when a site has up and down votes."""
    shown = [a for a in answers if not a.is_deleted and not a.hidden_by_flags]
    if not shown:
        return None
    address = request.build_absolute_uri(question_url(question))
    accepted = [a for a in shown if a.pk == question.accepted_answer_id]
    suggested = [a for a in shown if a.pk != question.accepted_answer_id]
    entity = {
        "@type": "Question",
        "name": question.title,
        "text": plain_text(question.body_html) or question.title,
        "inLanguage": text_lang(question.title),
        "answerCount": len(shown),
        "upvoteCount": question.score,
        "dateCreated": question.created_at.isoformat(),
        "datePublished": question.created_at.isoformat(),
        "dateModified": question.updated_at.isoformat(),
        "author": _person(request, question.author),
        "url": address,
    }
    if accepted:
        entity["acceptedAnswer"] = _answer(request, address, accepted[0])
    if suggested:
        entity["suggestedAnswer"] = [_answer(request, address, a) for a in suggested]
    return {"@context": "https://schema.org", "@type": "QAPage", "mainEntity": entity}


# As django.utils.html.json_script: nothing in the data can close the <script> element.
_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def json_ld(data: dict) -> SafeString:
    """A `<script type="application/ld+json">` data block (not a script: a Content-Security-Policy
    without 'unsafe-inline' does not block it)."""
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_JSON_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{payload}</script>')  # noqa: S308
