"""A schema check for schema.org QAPage JSON-LD, after Google's Q&A rich-result guidelines.

Google requires, on the Question: name, answerCount and at least one of acceptedAnswer or
suggestedAnswer; on each Answer: text and an author with a name. It recommends text, upvoteCount,
dates and author on the Question, and upvoteCount, url and dates on each Answer. This check
requires all of those (the page has them all), with their types: integers for counts, ISO 8601
date-times with a time zone, absolute http(s) URLs, non-empty plain text without markup.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlparse


def _text(value) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "a non-empty string"
    if "<" in value and ">" in value:
        return "plain text, not markup"
    return None


def _integer(value) -> str | None:
    return None if isinstance(value, int) and not isinstance(value, bool) else "an integer"


def _count(value) -> str | None:
    return _integer(value) or (None if value >= 0 else "a count (>= 0)")


def _datetime(value) -> str | None:
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return "an ISO 8601 date-time"
    return None if parsed.tzinfo is not None else "a date-time with a time zone"


def _url(value) -> str | None:
    parts = urlparse(value) if isinstance(value, str) else None
    ok = parts is not None and parts.scheme in ("http", "https") and parts.netloc
    return None if ok else "an absolute http(s) URL"


def _check(errors: list[str], where: str, data, required: dict) -> None:
    if not isinstance(data, dict):
        errors.append(f"{where}: an object expected")
        return
    for name, rule in required.items():
        if name not in data:
            errors.append(f"{where}.{name}: missing")
        elif callable(rule):
            problem = rule(data[name])
            if problem:
                errors.append(f"{where}.{name}: {problem} expected, got {data[name]!r}")
        elif isinstance(rule, dict):
            _check(errors, f"{where}.{name}", data[name], rule)
        elif data[name] != rule:
            errors.append(f"{where}.{name}: {rule!r} expected, got {data[name]!r}")


PERSON = {"@type": "Person", "name": _text, "url": _url}
ANSWER = {
    "@type": "Answer",
    "text": _text,
    "upvoteCount": _integer,
    "dateCreated": _datetime,
    "datePublished": _datetime,
    "url": _url,
    "author": PERSON,
}
QUESTION = {
    "@type": "Question",
    "name": _text,
    "text": _text,
    "answerCount": _count,
    "upvoteCount": _integer,
    "dateCreated": _datetime,
    "datePublished": _datetime,
    "author": PERSON,
}


def qa_page_errors(data) -> list[str]:
    """Every way `data` falls short of a QAPage rich result; empty when it is one."""
    errors: list[str] = []
    _check(errors, "QAPage", data, {"@context": "https://schema.org", "@type": "QAPage"})
    if errors:
        return errors
    question = data.get("mainEntity")
    _check(errors, "mainEntity", question, QUESTION)
    if not isinstance(question, dict):
        return errors
    answers = []
    if "acceptedAnswer" in question:
        answers.append(("acceptedAnswer", question["acceptedAnswer"]))
    suggested = question.get("suggestedAnswer", [])
    if not isinstance(suggested, list):
        errors.append("mainEntity.suggestedAnswer: a list expected")
        suggested = []
    answers += [(f"suggestedAnswer[{n}]", answer) for n, answer in enumerate(suggested)]
    if not answers:
        errors.append("mainEntity: acceptedAnswer or suggestedAnswer required")
    for where, answer in answers:
        _check(errors, f"mainEntity.{where}", answer, ANSWER)
    if question.get("answerCount") != len(answers):
        errors.append(
            f"mainEntity.answerCount: {question.get('answerCount')!r} but {len(answers)} answers"
        )
    return errors
