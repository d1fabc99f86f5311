"""Votes under real concurrency: threads with their own Postgres connections, released together
by a barrier, against committed data (transaction=True)."""

import random
import threading
from collections import Counter

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import ReputationEvent
from kb.models import Answer, Question, Vote
from kb.services.answers import answer_create
from kb.services.edits import EditConflict, post_edit
from kb.services.reputation import (
    post_reputation_reverse,
    reputation_differences,
    reputation_grant,
)
from kb.services.votes import (
    VoteLimitReached,
    answer_accept,
    answer_unaccept,
    vote_cast,
    vote_retract,
)
from tests.factories import UserFactory, answer_make, question_make

pytestmark = pytest.mark.django_db(transaction=True)

Kind = ReputationEvent.Kind


def member(reputation: int = 1):
    user = UserFactory()
    if reputation > 1:
        reputation_grant(actor=None, user=user, amount=reputation, reason="test seed")
        user.refresh_from_db()
    return user


def run_at_once(tasks) -> list:
    """Run each callable in its own thread and connection, all released at the same moment.
    Returns what each returned or raised."""
    barrier = threading.Barrier(len(tasks))
    outcomes: list = [None] * len(tasks)

    def work(index, task):
        try:
            connection.ensure_connection()  # connect first, so the barrier releases queries
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


def test_fifty_members_voting_on_one_answer_at_once_give_the_exact_score_and_ledger():
    author = member()
    answer = answer_make(question=question_make(), author=author)
    upvoters = [member(15) for _ in range(35)]
    downvoters = [member(125) for _ in range(15)]
    tasks = [lambda u=u: vote_cast(actor=u, post=answer, value=1) for u in upvoters]
    tasks += [lambda u=u: vote_cast(actor=u, post=answer, value=-1) for u in downvoters]
    outcomes = run_at_once(tasks)
    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    answer.refresh_from_db()
    assert answer.score == 35 - 15 and Vote.objects.filter(answer=answer).count() == 50
    rows = Counter(ReputationEvent.objects.filter(user=author).values_list("kind", "amount"))
    # The daily cap of 200: twenty upvotes earn 10, fifteen come after it and earn 0.
    assert rows == {(Kind.ANSWER_UPVOTED, 10): 20, (Kind.ANSWER_UPVOTED, 0): 15,
                    (Kind.DOWNVOTED, -2): 15}  # fmt: skip
    author.refresh_from_db()
    assert author.reputation == 200 - 30
    for voter in downvoters:
        voter.refresh_from_db()
        assert voter.reputation == 124
    assert reputation_differences() == []


def test_double_click_gives_one_vote():
    cache.clear()
    voter = member(15)
    answer = answer_make(question=question_make())

    def click():
        client = APIClient()
        client.force_authenticate(voter)
        response = client.post(f"/api/v1/answers/{answer.pk}/vote/", {"value": 1})
        return response.status_code, response.json()

    outcomes = run_at_once([click] * 4)
    assert outcomes == [(200, {"id": answer.pk, "score": 1, "vote": 1})] * 4
    assert Vote.objects.filter(user=voter).count() == 1
    assert ReputationEvent.objects.filter(kind=Kind.ANSWER_UPVOTED).count() == 1
    answer.refresh_from_db()
    assert answer.score == 1 and reputation_differences() == []


def test_double_click_on_retract_reverses_once():
    voter = member(125)
    answer = answer_make(question=question_make())
    vote_cast(actor=voter, post=answer, value=-1)
    outcomes = run_at_once([lambda: vote_retract(actor=voter, post=answer)] * 3)
    assert [o.score for o in outcomes] == [0, 0, 0]
    assert sorted(o.changed for o in outcomes) == [False, False, True]
    assert ReputationEvent.objects.filter(kind=Kind.REVERSAL).count() == 2  # −2 and −1 undone
    assert reputation_differences() == []


def _random_task(rng, number, members, questions, answers):
    actor, question, answer = rng.choice(members), rng.choice(questions), rng.choice(answers)
    post, value, choice = rng.choice(questions + answers), rng.choice([1, -1]), rng.random()
    if choice < 0.08:
        body = f"{post.body}\n\n第 {number} 次补充。"
        return lambda: post_edit(actor=post.author, post=post, base_revision=1, body=body)
    if choice < 0.12:
        return lambda: answer_create(actor=actor, question=question, body=f"并发回答 {number}")
    if choice < 0.55:
        return lambda: vote_cast(actor=actor, post=post, value=value)
    if choice < 0.7:
        return lambda: vote_retract(actor=actor, post=post)
    if choice < 0.85:
        asker = Question.objects.get(pk=answer.question_id).author
        service = answer_accept if rng.random() < 0.7 else answer_unaccept
        return lambda: service(actor=asker, answer=answer)
    if choice < 0.93:
        return lambda: reputation_grant(actor=None, user=actor, amount=7, reason="seed")
    return lambda: post_reputation_reverse(post=post)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_mixed_concurrent_writes_neither_deadlock_nor_drift(seed):
    """Members vote, switch, retract, accept, edit, answer and get grants on overlapping posts,
    while posts lose their reputation; every lock is taken in one order, so nothing deadlocks."""
    rng = random.Random(seed)
    members = [member(130) for _ in range(12)]
    questions = [question_make(author=rng.choice(members)) for _ in range(3)]
    answers = [  # distinct bodies: the same answer twice would be one (a resubmission)
        answer_make(question=rng.choice(questions), author=rng.choice(members), body=f"回答 {n}")
        for n in range(6)
    ]
    posts = questions + answers
    tasks = [_random_task(rng, number, members, questions, answers) for number in range(45)]
    outcomes = run_at_once(tasks)
    refusals = (PermissionDenied, ValidationError, VoteLimitReached, EditConflict)
    unexpected = [o for o in outcomes if isinstance(o, BaseException) and
                  not isinstance(o, refusals)]  # fmt: skip
    assert unexpected == []
    assert Vote.objects.exists() and reputation_differences() == []
    for post in posts:
        post.refresh_from_db()
        assert post.score == sum(
            Vote.objects.filter(**{type(post).__name__.lower(): post}).values_list(
                "value", flat=True
            )
        )
    assert Answer.objects.count() == 6 + sum(isinstance(o, Answer) for o in outcomes)
