"""Helpers shared by the moderation tests: members with real reputation (granted through the
ledger), role-based API clients, and running writes at the same moment in threads."""

import threading

from django.db import connection
from rest_framework.test import APIClient

from kb.rules import rule
from kb.services.edits import post_edit
from kb.services.reputation import reputation_grant
from tests.factories import UserFactory, moderator_create


def member(reputation: int = 1, **kwargs):
    """A member whose reputation comes from the ledger, like everyone else's."""
    user = UserFactory(**kwargs)
    if reputation > 1:
        reputation_grant(actor=None, user=user, amount=reputation, reason="test seed")
        user.refresh_from_db()
    return user


def reviewer(**kwargs):
    return member(rule("PRIVILEGE_REVIEW_EDITS"), **kwargs)


def editor(**kwargs):
    return member(rule("PRIVILEGE_EDIT_DIRECTLY"), **kwargs)


def closer(**kwargs):
    return member(rule("PRIVILEGE_CLOSE_VOTE"), **kwargs)


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


def suggest(post, *, by, body: str | None = None, summary: str = "更正"):
    """A suggested edit (a pending revision) by a member who cannot edit directly."""
    result = post_edit(
        actor=by,
        post=post,
        base_revision=post.revision_count,
        body=body if body is not None else post.body + "\n\n补充:更正一处笔误。",
        summary=summary,
    )
    assert result.pending
    return result.revision


def run_at_once(tasks) -> list:
    """Run each callable in its own thread and connection, released together by a barrier.
    Returns what each returned or raised."""
    barrier = threading.Barrier(len(tasks))
    outcomes: list = [None] * len(tasks)

    def work(index, task):
        try:
            connection.ensure_connection()
            barrier.wait(timeout=60)
            outcomes[index] = task()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, t)) for i, t in enumerate(tasks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return outcomes


ROLES = ("anonymous", "user", "reviewer", "author", "moderator")


def role_user(role: str, *, author):
    """The acting user for a permission-matrix role."""
    return {
        "anonymous": lambda: None,
        "user": lambda: member(),
        "reviewer": lambda: reviewer(),
        "editor": lambda: editor(),
        "closer": lambda: closer(),
        "author": lambda: author,
        "moderator": lambda: moderator_create(),
    }[role]()
