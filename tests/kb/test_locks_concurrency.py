"""The users' row lock (kb.services.locking.users_lock), pinned with real concurrency: votes on
different questions of one author do not share a post lock, so only the lock on the author's row
keeps each transaction's "reputation = sum of the ledger" from missing the other's event.
Removing that lock from a service makes these tests fail (docs/mutation.md)."""

import threading

import pytest
from django.db import DatabaseError, transaction

from accounts.models import User
from kb.models import Answer
from kb.services.reputation import reputation_differences
from kb.services.votes import answer_accept, answer_unaccept, vote_cast, vote_retract
from tests.factories import answer_make, question_make
from tests.kb.test_votes_concurrency import member, run_at_once

pytestmark = pytest.mark.django_db(transaction=True)

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


def test_an_accept_holds_its_answer_and_the_one_it_replaces_until_it_commits():
    """The lock order (kb.services.locking): an accept locks the question, then the answer it
    accepts and the one it replaces. Writers that act on one answer lock its question first and
    so wait anyway; the answers' lock keeps out those that lock answers alone (reconcile --fix).
    Probed directly: while the accept is uncommitted, neither answer can be taken for update."""
    asker = member()
    question = question_make(author=asker)
    replaced, accepted = answer_make(question=question), answer_make(question=question)
    answer_accept(actor=asker, answer=replaced)
    done, probed = threading.Event(), threading.Event()

    def accept():
        with transaction.atomic():
            answer_accept(actor=asker, answer=accepted)
            done.set()
            assert probed.wait(timeout=60)

    def probe() -> dict[str, str]:
        try:
            assert done.wait(timeout=60)
            found = {}
            for name, answer in (("accepted", accepted), ("replaced", replaced)):
                rows = Answer.objects.select_for_update(no_key=True, nowait=True)
                try:
                    with transaction.atomic():
                        list(rows.filter(pk=answer.pk).values("pk"))
                    found[name] = "free"
                except DatabaseError:
                    found[name] = "locked"
            return found
        finally:
            probed.set()

    outcomes = run_at_once([accept, probe])
    assert outcomes == [None, {"accepted": "locked", "replaced": "locked"}]
