"""Versions of what pages show, for the anonymous page cache (kb/views/page_cache.py).

A cached page records, when it is rendered, the version of everything it shows: `q:<id>` for a
question page (the question, its answers, comments, votes, state), `list` for whatever lists
questions or tags (home and its tabs, tag pages, the tag list, user pages), `user:<id>` for a
member's name and reputation wherever they are shown. It is served again only while all of them
are unchanged, so it is never stale. Every write calls one function below (one line in the
service); the versions move in the write's on_commit, once the change is visible to readers.

Versions live in a cache every web process shares (settings.PAGE_VERSIONS_CACHE: Redis in
production, a directory the workers share without it), so every process agrees. A version is a
random number: a write sets a new one (no read-modify-write, so two writes at once cannot leave
it where it was), and a version that is missing (never written, or evicted) starts at one, never
at a value an old page may hold. `SEQUENCE` moves before any version does: a render that started
before a write and read a version after it sees the sequence move and is not stored
(kb/views/page_cache.py).
"""

import secrets
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import caches
from django.db import transaction

PREFIX = "pv:"
SEQUENCE = "pv:sequence"
LIST = "list"


def question_key(question_id: int) -> str:
    return f"q:{question_id}"


def user_key(user_id: int) -> str:
    return f"user:{user_id}"


def viewer_key(user_id: int) -> str:
    """What a member sees on their own pages besides the content: their votes, follows,
    privileges, inbox (kb/views/page_cache.py's members' pages)."""
    return f"viewer:{user_id}"


def _fresh() -> int:
    return secrets.randbits(48)


def store():
    return caches[settings.PAGE_VERSIONS_CACHE]


def _bump_now(names: Iterable[str]) -> None:
    cache = store()
    cache.set(SEQUENCE, _fresh(), None)  # first: see the module's note
    cache.set_many({PREFIX + name: _fresh() for name in names}, None)


def versions_bump(*names: str) -> None:
    """Move the versions named, once the current transaction commits (at once outside one)."""
    names = tuple(dict.fromkeys(names))
    transaction.on_commit(lambda: _bump_now(names))


def versions_get(names: Iterable[str]) -> dict[str, int]:
    """The current version of each name, starting missing ones. One cache read when all exist."""
    names = list(names)
    cache = store()
    found = cache.get_many([PREFIX + name for name in names])
    missing = [name for name in names if PREFIX + name not in found]
    for name in missing:
        cache.add(PREFIX + name, _fresh(), None)
    if missing:
        found.update(cache.get_many([PREFIX + name for name in missing]))
    return {name: found.get(PREFIX + name) for name in names}


def sequence_get():
    return store().get(SEQUENCE)


# --- What writes call: one line per write ---------------------------------------------------


def question_changed(question_id: int) -> None:
    """The question's page and every list that may show it."""
    versions_bump(question_key(question_id), LIST)


def questions_changed(question_ids: Iterable[int]) -> None:
    versions_bump(*(question_key(pk) for pk in question_ids), LIST)


def post_changed(post) -> None:
    """A question or an answer (or anything on the question's page: its comments, votes)."""
    question_id = getattr(post, "question_id", None) or post.pk
    question_changed(question_id)


def users_changed(user_ids: Iterable[int]) -> None:
    """Members' names or reputation: every page showing them, and their own page."""
    versions_bump(*(user_key(pk) for pk in user_ids))


def viewers_changed(user_ids: Iterable[int]) -> None:
    """What these members see on their own pages: their inbox, their own writes."""
    versions_bump(*(viewer_key(pk) for pk in user_ids))


def viewer_changed(user_id: int) -> None:
    viewers_changed([user_id])


def lists_changed() -> None:
    """Tags (their counts, descriptions, aliases) and other list-only facts."""
    versions_bump(LIST)


def comment_changed(comment) -> None:
    """The page a comment is on (one query for a comment on an answer)."""
    from kb.models import Answer

    question_id = comment.question_id or (
        Answer.objects.values_list("question_id", flat=True).get(pk=comment.answer_id)
    )
    question_changed(question_id)


def moderation_logged(*, keys: dict, user_id: int | None) -> None:
    """A moderation action (kb.services.moderation.moderation_log): its question's page, and the
    member it concerned (suspension, removed content)."""
    question = keys.get("question")
    question_id = keys.get("question_id") or getattr(question, "pk", None)
    if question_id:
        question_changed(question_id)
    if user_id:
        users_changed([user_id])
