"""The rulebook table: every action × role × post state, asked four ways.

For each cell the question page (does it show the control?), the API (does the write answer
2xx?), the service (does it raise?) and the page's POST (does it succeed?) must agree with the
hand-written EXPECTED table below, and a refusal must carry the same code everywhere. Nothing
here computes an expectation with kb.permissions.

Every write is made inside a savepoint that is rolled back, so each state is built once (one
test per state) and every cell starts from the same rows.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.test import Client
from django.utils import timezone

from kb.models import Answer, Question
from kb.rules import rule
from kb.services import closing, moderation
from kb.services.answers import answer_create
from kb.services.comments import comment_create
from kb.services.edits import post_edit
from kb.services.flags import flag_create
from kb.services.votes import answer_accept, vote_cast
from tests.factories import TagFactory, UserFactory, answer_make, moderator_create, question_make
from tests.kb.moderation_support import client_for, member

pytestmark = pytest.mark.real_privileges

STATES = ("normal", "locked", "closed", "deleted", "hidden", "protected")
ROLES = ("anonymous", "new", "privileged", "author", "suspended", "moderator")
ACTIONS = (
    "vote_up", "vote_down", "accept", "comment", "flag", "edit", "delete", "undelete",
    "close_vote", "answer",
)  # fmt: skip

# The reputation "privileged" holds for each action: exactly the threshold it needs (1 where
# the action needs none).
PRIVILEGE_RULE = {
    "vote_up": "PRIVILEGE_UPVOTE",
    "vote_down": "PRIVILEGE_DOWNVOTE",
    "comment": "PRIVILEGE_COMMENT",
    "flag": "PRIVILEGE_FLAG",
    "edit": "PRIVILEGE_EDIT_DIRECTLY",
    "close_vote": "PRIVILEGE_CLOSE_VOTE",
    "answer": "PROTECTED_ANSWER_REPUTATION",
}

OK = None
LOGIN = "login_required"
GONE = "not_found"
SUSP = "suspended"


def row(new, privileged, author, moderator, *, anonymous=LOGIN, suspended=SUSP):
    return {
        "anonymous": anonymous,
        "new": new,
        "privileged": privileged,
        "author": author,
        "suspended": suspended,
        "moderator": moderator,
    }


# Hidden and deleted questions are seen by their author and moderators only: everyone else is
# told "not_found" (a 404), even a suspended member.
def unseen(author, moderator):
    return row(GONE, GONE, author, moderator, suspended=GONE)


NEEDS = "needs_privilege"
LOCKED = "locked"
DELETED = "deleted"
OWN = "own_post"

# In the closed state "close_vote" is the vote to reopen.
EXPECTED: dict[str, dict[str, dict[str, str | None]]] = {
    "vote_up": {
        "normal": row(NEEDS, OK, OWN, OK),
        "locked": row(LOCKED, LOCKED, OWN, LOCKED),
        "closed": row(NEEDS, OK, OWN, OK),
        "deleted": unseen(OWN, DELETED),
        "hidden": unseen(OWN, OK),
        "protected": row(NEEDS, OK, OWN, OK),
    },
    "vote_down": {
        "normal": row(NEEDS, OK, OWN, OK),
        "locked": row(LOCKED, LOCKED, OWN, LOCKED),
        "closed": row(NEEDS, OK, OWN, OK),
        "deleted": unseen(OWN, DELETED),
        "hidden": unseen(OWN, OK),
        "protected": row(NEEDS, OK, OWN, OK),
    },
    # Accepting the answer (by someone else) to the question: the asker only.
    "accept": {
        "normal": row("not_asker", "not_asker", OK, "not_asker"),
        "locked": row("not_asker", "not_asker", LOCKED, "not_asker"),
        "closed": row("not_asker", "not_asker", OK, "not_asker"),
        "deleted": unseen(DELETED, "not_asker"),
        "hidden": unseen(OK, "not_asker"),
        "protected": row("not_asker", "not_asker", OK, "not_asker"),
    },
    "comment": {
        "normal": row(NEEDS, OK, OK, OK),
        "locked": row(LOCKED, LOCKED, LOCKED, OK),
        "closed": row(NEEDS, OK, OK, OK),
        "deleted": unseen(DELETED, DELETED),
        "hidden": unseen(OK, OK),
        "protected": row(NEEDS, OK, OK, OK),
    },
    "flag": {
        "normal": row(NEEDS, OK, OWN, OK),
        "locked": row(NEEDS, OK, OWN, OK),
        "closed": row(NEEDS, OK, OWN, OK),
        "deleted": unseen(OWN, DELETED),
        "hidden": unseen(OWN, OK),
        "protected": row(NEEDS, OK, OWN, OK),
    },
    # Editing at all (a suggestion or a direct edit).
    "edit": {
        "normal": row(OK, OK, OK, OK),
        "locked": row(LOCKED, LOCKED, LOCKED, OK),
        "closed": row(OK, OK, OK, OK),
        "deleted": unseen(DELETED, OK),
        "hidden": unseen(OK, OK),
        "protected": row(OK, OK, OK, OK),
    },
    # The question has an answer by someone else, so its author may not delete it.
    "delete": {
        "normal": row("not_author", "not_author", "answered_by_others", OK),
        "locked": row("not_author", "not_author", LOCKED, OK),
        "closed": row("not_author", "not_author", "answered_by_others", OK),
        "deleted": unseen("already_deleted", "already_deleted"),
        "hidden": unseen("answered_by_others", OK),
        "protected": row("not_author", "not_author", "answered_by_others", OK),
    },
    # A moderator deleted the question in the deleted state, so its author may not undelete it.
    "undelete": {
        "normal": row("not_deleted", "not_deleted", "not_deleted", "not_deleted"),
        "locked": row("not_deleted", "not_deleted", "not_deleted", "not_deleted"),
        "closed": row("not_deleted", "not_deleted", "not_deleted", "not_deleted"),
        "deleted": unseen("not_author", OK),
        "hidden": unseen("not_deleted", "not_deleted"),
        "protected": row("not_deleted", "not_deleted", "not_deleted", "not_deleted"),
    },
    "close_vote": {
        "normal": row(NEEDS, OK, NEEDS, OK),
        "locked": row(LOCKED, LOCKED, LOCKED, OK),
        "closed": row(NEEDS, OK, NEEDS, OK),
        "deleted": unseen(DELETED, DELETED),
        "hidden": unseen(NEEDS, OK),
        "protected": row(NEEDS, OK, NEEDS, OK),
    },
    "answer": {
        "normal": row(OK, OK, OK, OK),
        "locked": row(LOCKED, LOCKED, LOCKED, LOCKED),
        "closed": row("closed", "closed", "closed", "closed"),
        "deleted": unseen(DELETED, DELETED),
        "hidden": unseen(OK, OK),
        "protected": row("protected", OK, "protected", OK),
    },
}

BODY = "这是一个足够长的回答正文,用来说明注意力机制里缩放因子的作用和由来。" * 2


@dataclass
class World:
    state: str
    question: Question
    answer: Answer
    author: object
    users: dict  # role (and "privileged:<action>") -> user


def _world(state: str) -> World:
    author = UserFactory()
    mod = moderator_create()
    TagFactory(name="llm")
    question = question_make(author=author)
    answer = answer_make(question=question, author=member(), body=BODY)
    if state == "locked":
        moderation.post_lock(actor=mod, post=question, reason="锁定测试")
    elif state == "closed":
        closing.question_close(actor=mod, question=question, reason="off_topic")
    elif state == "deleted":
        moderation.post_delete(actor=mod, post=question, reason="删除测试")
    elif state == "hidden":
        Question.objects.filter(pk=question.pk).update(hidden_by_flags=True)
    elif state == "protected":
        moderation.question_protect(actor=mod, question=question)
    suspended = member(5000)
    suspended.suspended_until = timezone.now() + timedelta(days=3)
    suspended.save(update_fields=["suspended_until"])
    users = {"anonymous": None, "new": member(), "author": author, "suspended": suspended}
    users["moderator"] = mod
    for action, name in PRIVILEGE_RULE.items():
        users[f"privileged:{action}"] = member(int(rule(name)))
    users["privileged"] = member()
    return World(state, question, answer, author, users)


def _user(world: World, role: str, action: str):
    if role == "privileged":
        return world.users.get(f"privileged:{action}", world.users["privileged"])
    return world.users[role]


def _fresh(world: World) -> tuple[Question, Answer]:
    question = Question.objects.get(pk=world.question.pk)
    answer = Answer.objects.select_related("question").get(pk=world.answer.pk)
    return question, answer


def _rolled_back(work):
    """Run `work` in a savepoint that is always rolled back; return what it returned."""
    with transaction.atomic():
        result = work()
        transaction.set_rollback(True)
    return result


# --- The four ways --------------------------------------------------------------------------


def _service(world: World, action: str, user) -> str | None:
    from django.contrib.auth.models import AnonymousUser

    actor = user or AnonymousUser()
    question, answer = _fresh(world)
    calls = {
        "vote_up": lambda: vote_cast(actor=actor, post=question, value=1),
        "vote_down": lambda: vote_cast(actor=actor, post=question, value=-1),
        "accept": lambda: answer_accept(actor=actor, answer=answer),
        "comment": lambda: comment_create(actor=actor, post=question, body="评论:缩放因子很关键。"),
        "flag": lambda: flag_create(actor=actor, target=question, reason="rude"),
        "edit": lambda: post_edit(
            actor=actor,
            post=question,
            base_revision=question.revision_count,
            body=question.body + "\n\n补充一句。",
        ),  # fmt: skip
        "delete": lambda: moderation.post_delete(actor=actor, post=question),
        "undelete": lambda: moderation.post_undelete(actor=actor, post=question),
        "close_vote": (
            (lambda: closing.question_reopen(actor=actor, question=question))
            if world.state == "closed"
            else (
                lambda: closing.question_close(actor=actor, question=question, reason="off_topic")
            )  # fmt: skip
        ),
        "answer": lambda: answer_create(actor=actor, question=question, body=BODY + "另一个。"),
    }
    try:
        _rolled_back(calls[action])
    except PermissionDenied as error:
        return getattr(error, "code", "permission_denied")
    except ValidationError as error:
        return f"invalid: {error.messages}"
    return None


def _api(world: World, action: str, user) -> str | None:
    q, a = world.question.pk, world.answer.pk
    requests = {
        "vote_up": ("post", f"/api/v1/questions/{q}/vote/", {"value": 1}),
        "vote_down": ("post", f"/api/v1/questions/{q}/vote/", {"value": -1}),
        "accept": ("post", f"/api/v1/answers/{a}/accept/", {}),
        "comment": ("post", f"/api/v1/questions/{q}/comments/", {"body": "评论:缩放因子很关键。"}),
        "flag": ("post", f"/api/v1/questions/{q}/flags/", {"reason": "rude"}),
        "edit": (
            "patch",
            f"/api/v1/questions/{q}/",
            {
                "base_revision": world.question.revision_count,
                "body": world.question.body + "\n\n补充一句。",
            },
        ),  # fmt: skip
        "delete": ("post", f"/api/v1/questions/{q}/delete/", {}),
        "undelete": ("post", f"/api/v1/questions/{q}/undelete/", {}),
        "close_vote": (
            ("post", f"/api/v1/questions/{q}/reopen/", {})
            if world.state == "closed"
            else ("post", f"/api/v1/questions/{q}/close/", {"reason": "off_topic"})
        ),
        "answer": ("post", f"/api/v1/questions/{q}/answers/", {"body": BODY + "另一个。"}),
    }
    method, url, data = requests[action]
    client = client_for(user)
    response = _rolled_back(lambda: getattr(client, method)(url, data, format="json"))
    if response.status_code < 300:
        return None
    if response.status_code == 404:
        return GONE
    if response.status_code == 401:
        return LOGIN
    return response.json()["error"]["code"]


_CLIENTS: dict = {}


def _page_client(user) -> Client:
    """One logged-in client per user (a login writes a session row)."""
    key = user.pk if user is not None else None
    if key not in _CLIENTS:
        client = Client()
        if user is not None:
            client.force_login(user)
        _CLIENTS[key] = client
    return _CLIENTS[key]


def _page_post(world: World, action: str, user) -> str | None:
    q, a = world.question.pk, world.answer.pk
    requests = {
        "vote_up": (f"/questions/{q}/vote/", {"value": "1"}),
        "vote_down": (f"/questions/{q}/vote/", {"value": "-1"}),
        "accept": (f"/answers/{a}/accept/", {"accept": "1"}),
        "comment": (f"/questions/{q}/comments/", {"body": "评论:缩放因子很关键。"}),
        "flag": (f"/moderation/question/{q}/flag/", {"reason": "rude"}),
        "edit": (
            f"/questions/{q}/edit/",
            {
                "base_revision": world.question.revision_count,
                "title": world.question.title,
                "tags": "llm",
                "body": world.question.body + "\n\n补充一句。",
            },
        ),  # fmt: skip
        "delete": (f"/moderation/question/{q}/delete/", {"reason": ""}),
        "undelete": (f"/moderation/question/{q}/undelete/", {"reason": ""}),
        "close_vote": (
            (f"/moderation/question/{q}/reopen/", {})
            if world.state == "closed"
            else (f"/moderation/question/{q}/close/", {"reason": "off_topic"})
        ),
        "answer": (f"/questions/{q}/answers/", {"body": BODY + "另一个。"}),
    }
    url, data = requests[action]
    client = _page_client(user)
    response = _rolled_back(lambda: client.post(url, data))
    if response.status_code == 404:
        return GONE
    if response.status_code == 302 and response["Location"].startswith("/accounts/login/"):
        return LOGIN
    if response.status_code == 401:  # the login page, keeping the text typed (member_required)
        return LOGIN
    codes = [
        tag.removeprefix("refusal-")
        # only what this request said (a reused client may carry older messages)
        for message in get_messages(response.wsgi_request)._queued_messages
        for tag in message.extra_tags.split()
        if tag.startswith("refusal-")
    ]
    found = re.search(r'data-refusal-code="([a-z_]+)"', response.content.decode())
    if found:
        codes.append(found.group(1))
    if codes:
        return codes[0]
    if response.status_code in (302, 303):
        return None
    return f"status {response.status_code}"


def _control(world: World, action: str, html: str | None) -> bool:
    """Whether the question page (None: a 404) shows the control for `action`."""
    if html is None:
        return False
    q, a = world.question.pk, world.answer.pk

    def form(action_url: str) -> bool:
        return f'action="{action_url}' in html

    if action in ("vote_up", "vote_down"):
        found = re.search(rf'<form class="votes"[^>]*action="/questions/{q}/vote/".*?</form>',
                          html, re.S)  # fmt: skip
        if not found:
            return False
        value = "1" if action == "vote_up" else "-1"
        button = re.search(rf'<button[^>]*data-vote="{value}"[^>]*>', found.group(0)).group(0)
        return 'aria-disabled="true"' not in button
    urls = {
        "accept": f"/answers/{a}/accept/",
        "comment": f"/questions/{q}/comments/",
        "flag": f"/moderation/question/{q}/flag/",
        "delete": f"/moderation/question/{q}/delete/",
        "undelete": f"/moderation/question/{q}/undelete/",
        "close_vote": (
            f"/moderation/question/{q}/reopen/"
            if world.state == "closed"
            else f"/moderation/question/{q}/close/"
        ),
        "answer": f"/questions/{q}/answers/",
    }
    if action == "edit":
        return f'href="/questions/{q}/edit/"' in html
    return form(urls[action])


def _page_html(world: World, user) -> str | None:
    response = _page_client(user).get(f"/questions/{world.question.pk}/")
    if response.status_code in (404, 410):  # 410: a deleted question, for those who cannot see it
        return None
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("state", STATES)
def test_page_api_service_and_post_agree_with_the_table(state, page_cache_off):
    _CLIENTS.clear()
    world = _world(state)
    mismatches = []
    pages: dict[tuple, str | None] = {}
    for action in ACTIONS:
        for role in ROLES:
            user = _user(world, role, action)
            key = (role, action if role == "privileged" else "")
            if key not in pages:
                pages[key] = _page_html(world, user)
            expected = EXPECTED[action][state][role]
            seen = {
                "control": _control(world, action, pages[key]),
                "api": _api(world, action, user),
                "service": _service(world, action, user),
                "page_post": _page_post(world, action, user),
            }
            wanted = {
                "control": expected is None,
                "api": expected,
                "service": expected,
                "page_post": expected,
            }
            for way, value in seen.items():
                if value != wanted[way]:
                    mismatches.append(f"{action} × {role}: {way} gave {value!r}, "
                                      f"table says {wanted[way]!r}")  # fmt: skip
    assert mismatches == [], "\n".join(mismatches)
