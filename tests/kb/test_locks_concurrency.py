"""Row locks (kb.services.locking), pinned with real concurrency.

- The users' row lock: votes on different questions of one author do not share a post lock, so
  only the lock on the author's row keeps each transaction's "reputation = sum of the ledger"
  from missing the other's event.
- Held locks, probed from a second connection with NOWAIT (`rows_held_by`): an accept and the
  reputation services that act on a post hold the rows the lock order names until they commit.
- Locks taken before reading (`run_while_held`): a reputation service that starts while another
  transaction has written to its member or post waits for it, then reads what it wrote. The
  moderation services the same way: of two moderators unlocking, protecting, undeleting a comment
  or lifting a suspension at once, the second waits and is refused.

Removing any of these locks from a service makes these tests fail (docs/mutation.md)."""

import threading
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import ReputationEvent, User
from kb.models import Answer, Comment, ModerationAction, Question, Revision
from kb.services.comments import comment_create
from kb.services.edits import post_edit
from kb.services.moderation import (
    comment_undelete,
    post_lock,
    post_unlock,
    question_protect,
    user_suspend,
    user_unsuspend,
)
from kb.services.reputation import (
    post_reputation_restore,
    post_reputation_reversals,
    post_reputation_reverse,
    reputation_differences,
    reputation_edit_approved,
    reputation_grant,
    reputation_reconcile,
    reputation_spam_penalty,
)
from kb.services.votes import answer_accept, answer_unaccept, vote_cast, vote_retract
from tests.factories import answer_make, moderator_create, question_make
from tests.kb.moderation_support import member
from tests.kb.test_votes_concurrency import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)

Kind = ReputationEvent.Kind

VOTERS = 8


def _author_with_questions() -> tuple[User, list]:
    author = member()
    return author, [question_make(author=author) for _ in range(VOTERS)]


def test_upvotes_on_one_authors_questions_at_once_all_reach_the_authors_reputation():
    author, questions = _author_with_questions()
    voters = [member(15) for _ in range(VOTERS)]
    tasks = [lambda v=v, q=q: vote_cast(actor=v, post=q, value=1)
             for v, q in zip(voters, questions, strict=True)]  # fmt: skip
    assert [o for o in run_at_once(tasks) if isinstance(o, BaseException)] == []
    author.refresh_from_db()
    assert author.reputation == 10 * VOTERS
    assert reputation_differences() == []


def test_retracting_at_once_takes_back_every_vote_from_the_reputation():
    author, questions = _author_with_questions()
    voters = [member(15) for _ in range(VOTERS)]
    for voter, question in zip(voters, questions, strict=True):
        vote_cast(actor=voter, post=question, value=1)
    tasks = [lambda v=v, q=q: vote_retract(actor=v, post=q)
             for v, q in zip(voters, questions, strict=True)]  # fmt: skip
    assert [o for o in run_at_once(tasks) if isinstance(o, BaseException)] == []
    author.refresh_from_db()
    assert author.reputation == 1  # nothing left; the floor
    assert reputation_differences() == []


def test_accepts_at_once_by_different_askers_all_reach_the_answerer():
    answerer = member()
    askers = [member() for _ in range(VOTERS)]
    answers = [answer_make(question=question_make(author=a), author=answerer) for a in askers]
    tasks = [lambda a=a, x=x: answer_accept(actor=a, answer=x)
             for a, x in zip(askers, answers, strict=True)]  # fmt: skip
    assert [o for o in run_at_once(tasks) if isinstance(o, BaseException)] == []
    answerer.refresh_from_db()
    assert answerer.reputation == 15 * VOTERS
    assert reputation_differences() == []
    tasks = [lambda a=a, x=x: answer_unaccept(actor=a, answer=x)
             for a, x in zip(askers, answers, strict=True)]  # fmt: skip
    assert [o for o in run_at_once(tasks) if isinstance(o, BaseException)] == []
    answerer.refresh_from_db()
    assert answerer.reputation == 1
    assert reputation_differences() == []


def rows_held_by(task, rows: dict) -> dict[str, str]:
    """Run `task` in a transaction left open while a second connection tries to take each of
    `rows` (name: queryset) for update without waiting: which the task holds ("locked") and which
    it does not ("free")."""
    done, probed = threading.Event(), threading.Event()

    def run():
        with transaction.atomic():
            try:
                task()
            finally:
                done.set()
            assert probed.wait(timeout=60)

    def probe() -> dict[str, str]:
        try:
            assert done.wait(timeout=60)
            found = {}
            for name, queryset in rows.items():
                try:
                    with transaction.atomic():
                        list(queryset.select_for_update(no_key=True, nowait=True).values("pk"))
                    found[name] = "free"
                except DatabaseError:
                    found[name] = "locked"
            return found
        finally:
            probed.set()

    outcome, found = run_at_once([run, probe])
    assert outcome is None, outcome
    return found


def _waits_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT cardinality(pg_blocking_pids(%s)) > 0", [pid])
        return cursor.fetchone()[0]


def run_while_held(hold, task) -> list:
    """`hold` runs in a transaction on one connection; then `task` runs on a second, and `hold`'s
    transaction commits only once `task` waits on a lock (or has ended). So a task that locks
    what `hold` wrote before reading it reads after the commit; one that does not, reads before.
    Returns what each returned or raised."""
    held, task_ended, task_pid = threading.Event(), threading.Event(), []

    def holder():
        try:
            with transaction.atomic():
                result = hold()
                held.set()
                deadline = time.monotonic() + 60
                while not task_ended.is_set() and not (task_pid and _waits_on_a_lock(task_pid[0])):
                    assert time.monotonic() < deadline, "the task neither waited nor ended"
                    time.sleep(0.01)
            return result
        finally:
            held.set()

    def waiter():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                task_pid.append(cursor.fetchone()[0])
            assert held.wait(timeout=60)
            return task()
        finally:
            task_ended.set()

    return run_at_once([holder, waiter])


def test_an_accept_holds_its_answer_and_the_one_it_replaces_until_it_commits():
    """The lock order (kb.services.locking): an accept locks the question, then the answer it
    accepts and the one it replaces. Writers that act on one answer lock its question first and
    so wait anyway; the answers' lock keeps out those that lock answers alone (reconcile --fix).
    Probed directly: while the accept is uncommitted, neither answer can be taken for update."""
    asker = member()
    question = question_make(author=asker)
    replaced, accepted = answer_make(question=question), answer_make(question=question)
    answer_accept(actor=asker, answer=replaced)
    found = rows_held_by(
        lambda: answer_accept(actor=asker, answer=accepted),
        {"accepted": Answer.objects.filter(pk=accepted.pk),
         "replaced": Answer.objects.filter(pk=replaced.pk)},
    )  # fmt: skip
    assert found == {"accepted": "locked", "replaced": "locked"}


# --- The reputation services' locks (kb.services.reputation) -----------------------------------


def _thread() -> dict:
    """A question with two answers, each post with an upvote on it."""
    question = question_make(author=member())
    first = answer_make(question=question, author=member(), body="第一个回答")
    second = answer_make(question=question, author=member(), body="第二个回答")
    for post in (question, first, second):
        vote_cast(actor=member(15), post=post, value=1)
    return {"question": question, "first": first, "second": second}


def _rows(thread: dict) -> dict:
    return {
        "question": Question.objects.filter(pk=thread["question"].pk),
        "first": Answer.objects.filter(pk=thread["first"].pk),
        "second": Answer.objects.filter(pk=thread["second"].pk),
    }


def _restore(post):
    reversals = post_reputation_reversals(post=post)  # committed: the deletion
    return lambda: post_reputation_restore(post=post, reversal_ids=[r.pk for r in reversals])


SERVICES_ON_A_POST = {
    "reverse": lambda post: lambda: post_reputation_reverse(post=post),
    "spam penalty": lambda post: lambda: reputation_spam_penalty(post=post),
    "restore": _restore,
}


@pytest.mark.parametrize("service", SERVICES_ON_A_POST)
def test_reputation_services_on_a_question_hold_it_and_all_its_answers(service):
    """Like a deletion of the question, they lock the whole thread (kb.services.locking)."""
    thread = _thread()
    task = SERVICES_ON_A_POST[service](thread["question"])
    found = rows_held_by(task, _rows(thread))
    assert found == {"question": "locked", "first": "locked", "second": "locked"}


@pytest.mark.parametrize("service", SERVICES_ON_A_POST)
def test_reputation_services_on_an_answer_hold_it_and_its_question_only(service):
    thread = _thread()
    task = SERVICES_ON_A_POST[service](thread["first"])
    found = rows_held_by(task, _rows(thread))
    assert found == {"question": "locked", "first": "locked", "second": "free"}


def _pending_edit(editor):
    answer = answer_make(question=question_make(), author=member())
    result = post_edit(actor=editor, post=answer, base_revision=1, body=answer.body + "\n\n补充。")
    assert result.pending
    return result.revision


def _corrupted(user) -> None:
    User.objects.filter(pk=user.pk).update(reputation=F("reputation") + 7)


# Each: the set-up for the member, the service under test, and the member's reputation after it
# and the concurrent grant of 150.
USER_SERVICES = {
    "reverse": (
        lambda user: vote_cast(actor=member(15), post=question_make(author=user), value=1),
        lambda user: post_reputation_reverse(post=Question.objects.get(author=user)),
        150,  # +10 reversed
    ),
    "restore": (
        lambda user: (vote_cast(actor=member(15), post=question_make(author=user), value=1),
                      post_reputation_reversals(post=Question.objects.get(author=user))),
        lambda user: post_reputation_restore(
            post=Question.objects.get(author=user),
            reversal_ids=ReputationEvent.objects.filter(kind=Kind.REVERSAL).values_list(
                "pk", flat=True),
        ),
        160,  # +10 reversed, then written again
    ),
    "spam penalty": (
        lambda user: question_make(author=user),
        lambda user: reputation_spam_penalty(post=Question.objects.get(author=user)),
        50,
    ),
    "edit approved": (
        lambda user: _pending_edit(user),
        lambda user: reputation_edit_approved(revision=Revision.objects.get(author=user)),
        152,
    ),
    "grant": (
        lambda user: None,
        lambda user: reputation_grant(actor=None, user=user, amount=30, reason="第二次"),
        180,
    ),
    "reconcile --fix": (
        _corrupted,
        lambda user: reputation_reconcile(fix=True),
        150,
    ),
}  # fmt: skip


@pytest.mark.parametrize("service", USER_SERVICES)
def test_reputation_services_lock_the_member_before_reading_the_ledger(service):
    """A grant to the member is uncommitted when the service starts: the service must wait for it
    on the member's row lock, and only then sum the ledger. Without the lock it sums without the
    grant and, once the grant commits, overwrites the reputation the grant stored."""
    user = member()
    prepare, run, expected = USER_SERVICES[service]
    prepare(user)
    hold = lambda: reputation_grant(actor=None, user=user, amount=150, reason="同时的奖励")  # noqa: E731
    outcomes = run_while_held(hold, lambda: run(user))
    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    user.refresh_from_db()
    assert user.reputation == expected
    assert reputation_differences() == []


@pytest.mark.parametrize("kind", ["question", "answer"])
def test_reconcile_fix_locks_a_post_before_summing_its_votes(kind):
    """A vote on the post is uncommitted when reconcile --fix starts: the fix must wait for it on
    the post's row lock and count it."""
    question = question_make()
    post = question if kind == "question" else answer_make(question=question)
    type(post).objects.filter(pk=post.pk).update(score=5)  # a stored score the rows do not give
    voter = member(15)
    outcomes = run_while_held(
        lambda: vote_cast(actor=voter, post=post, value=1),
        lambda: reputation_reconcile(fix=True),
    )
    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    post.refresh_from_db()
    assert post.score == 1
    assert reputation_differences() == []


# --- The moderation services' locks (kb.services.moderation) ------------------------------------
#
# Two moderators act on the same row at once. The first one's write is uncommitted when the second
# one's service starts (`run_while_held`); each passes the row as its own caller read it, before
# either wrote (separate instances: a service must not depend on a caller's object being current).
# The second must wait on the row's lock and decide on the row as the first left it.


def _refused_as(outcome, field: str = "non_field_errors") -> bool:
    return isinstance(outcome, ValidationError) and list(outcome.message_dict) == [field]


def _locked_post(kind: str):
    question = question_make()
    post = question if kind == "question" else answer_make(question=question)
    post_lock(actor=moderator_create(), post=post, reason="争议")
    return post


def only_the_first_of_two_moderators_acts(target, act, action: str) -> None:
    """Two moderators act on `target` at once, each with their own copy of the row read before
    either wrote: the second waits for the first's lock, reads the row again and is refused
    (the row no longer allows it), and the log holds the first's action only."""
    mine, theirs = (type(target).objects.get(pk=target.pk) for _ in range(2))
    first, second = moderator_create(), moderator_create()
    outcomes = run_while_held(lambda: act(first, mine), lambda: act(second, theirs))
    assert not isinstance(outcomes[0], BaseException), outcomes[0]
    assert _refused_as(outcomes[1]), outcomes[1]
    assert list(ModerationAction.objects.filter(action=action).values_list(
        "actor", flat=True)) == [first.pk]  # fmt: skip


@pytest.mark.parametrize("kind", ["question", "answer"])
def test_two_moderators_unlocking_one_post_at_once_unlock_it_once(kind):
    only_the_first_of_two_moderators_acts(
        _locked_post(kind),
        lambda actor, post: post_unlock(actor=actor, post=post, reason="已澄清"),
        "post_unlock",
    )  # the second: "This post is not locked."


def test_an_answer_unlock_holds_its_question_until_it_commits():
    """The lock order: a service acting on one answer locks its question first."""
    answer = _locked_post("answer")
    found = rows_held_by(
        lambda: post_unlock(actor=moderator_create(), post=answer),
        {"question": Question.objects.filter(pk=answer.question_id),
         "answer": Answer.objects.filter(pk=answer.pk)},
    )  # fmt: skip
    assert found == {"question": "locked", "answer": "locked"}


def test_two_moderators_protecting_one_question_at_once_protect_it_once():
    only_the_first_of_two_moderators_acts(
        question_make(),
        lambda actor, question: question_protect(actor=actor, question=question),
        "question_protect",
    )  # the second: "This question is already protected."


def test_two_moderators_undeleting_one_comment_at_once_undelete_it_once():
    comment = comment_create(actor=member(), post=question_make(), body="一条被删除的评论")
    Comment.objects.filter(pk=comment.pk).update(is_deleted=True)
    only_the_first_of_two_moderators_acts(
        comment,
        lambda actor, comment: comment_undelete(actor=actor, comment=comment),
        "comment_undelete",
    )  # the second: "This comment is not deleted."


def test_two_moderators_lifting_one_suspension_at_once_lift_it_once():
    only_the_first_of_two_moderators_acts(
        member(suspended_until=timezone.now() + timedelta(days=3)),
        lambda actor, user: user_unsuspend(actor=actor, user=user, reason="申诉成功"),
        "user_unsuspend",
    )  # the second: "This member is not suspended."


def test_a_suspension_waits_for_a_write_to_the_member_and_returns_the_row_after_it():
    """Suspending writes only `suspended_until`, so what the lock (and the read after it) keeps
    current is the member the service returns, which the API answers with: a grant uncommitted
    when the suspension starts is in it."""
    target, moderator = member(), moderator_create()
    theirs = User.objects.get(pk=target.pk)
    outcomes = run_while_held(
        lambda: reputation_grant(actor=None, user=target, amount=150, reason="同时的奖励"),
        lambda: user_suspend(actor=moderator, user=theirs, days=3, reason="刷屏"),
    )
    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    suspended = outcomes[1]
    assert (suspended.pk, suspended.reputation) == (target.pk, 150)  # the ledger: the grant
    assert suspended.suspended_until == User.objects.get(pk=target.pk).suspended_until
