"""The reputation ledger: one row per event, the daily cap, the floor of 1, exact reversals,
post_reputation_reverse, reconcile_reputation and grants (command and admin)."""

import random
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db.models import F, Sum
from django.utils import timezone, translation

from accounts.models import ReputationEvent, User
from kb.models import Answer, ModerationAction, Question, Revision, Vote
from kb.services.edits import post_edit
from kb.services.moderation import post_delete, post_undelete
from kb.services.reputation import (
    Difference,
    post_reputation_restore,
    post_reputation_reversals,
    post_reputation_reverse,
    reputation_differences,
    reputation_edit_approved,
    reputation_grant,
    reputation_spam_penalty,
)
from kb.services.votes import (
    VoteLimitReached,
    answer_accept,
    answer_unaccept,
    vote_cast,
    vote_retract,
)
from tests.factories import UserFactory, answer_make, moderator_create, question_make

pytestmark = pytest.mark.django_db

Kind = ReputationEvent.Kind


def member(reputation: int = 1, **kwargs) -> User:
    user = UserFactory(**kwargs)
    if reputation > 1:
        reputation_grant(actor=None, user=user, amount=reputation, reason="test seed")
    return user


def ledger(user) -> list[tuple[str, int]]:
    """The user's rows other than the test seed, oldest first."""
    rows = ReputationEvent.objects.filter(user=user).exclude(kind=Kind.BONUS).order_by("pk")
    return list(rows.values_list("kind", "amount"))


def reputation(user) -> int:
    user.refresh_from_db(fields=["reputation"])
    return user.reputation


def ledger_sum(user) -> int:
    return ReputationEvent.objects.filter(user=user).aggregate(s=Sum("amount"))["s"] or 0


# --- One row per event -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "author_rows", "voter_rows"),
    [
        ("question", 1, [("question_upvoted", 10)], []),
        ("answer", 1, [("answer_upvoted", 10)], []),
        ("question", -1, [("downvoted", -2)], []),
        ("answer", -1, [("downvoted", -2)], [("downvote_cast", -1)]),
    ],
)
def test_vote_events(kind, value, author_rows, voter_rows):
    author, voter = member(100), member(200)
    question = question_make(author=author if kind == "question" else None)
    post = question if kind == "question" else answer_make(question=question, author=author)
    vote_cast(actor=voter, post=post, value=value)
    assert ledger(author) == author_rows and ledger(voter) == voter_rows
    assert reputation(author) == 100 + sum(a for _, a in author_rows)
    assert reputation(voter) == 200 + sum(a for _, a in voter_rows)
    event = ReputationEvent.objects.get(user=author, kind=author_rows[0][0])
    assert event.vote == Vote.objects.get()
    # A question's rows point at the question, an answer's at the answer only.
    assert (event.question_id, event.answer_id) == (
        (question.pk, None) if kind == "question" else (None, post.pk)
    )


def test_accept_gives_15_to_the_answerer_and_2_to_the_asker():
    asker, answerer = member(), member()
    answer = answer_make(question=question_make(author=asker), author=answerer)
    answer_accept(actor=asker, answer=answer)
    assert ledger(answerer) == [("answer_accepted", 15)] and reputation(answerer) == 15
    assert ledger(asker) == [("accepted_an_answer", 2)] and reputation(asker) == 2


def test_accepting_ones_own_answer_earns_nothing():
    asker = member()
    answer = answer_make(question=question_make(author=asker), author=asker)
    question = answer_accept(actor=asker, answer=answer)
    assert question.accepted_answer_id == answer.pk
    assert not ReputationEvent.objects.exists()


def test_approved_suggested_edit_gives_2():
    author, editor = member(), member()
    answer = answer_make(question=question_make(), author=author)
    result = post_edit(actor=editor, post=answer, base_revision=1, body=answer.body + "\n\n补充。")
    assert result.pending
    event = reputation_edit_approved(revision=result.revision)
    assert (event.kind, event.amount, event.answer_id) == ("edit_approved", 2, answer.pk)
    assert reputation(editor) == 2
    own = Revision.objects.get(answer=answer, number=1)
    assert reputation_edit_approved(revision=own) is None


def test_spam_removal_costs_100_and_the_floor_is_1():
    author = member(150)
    question = question_make(author=author)
    event = reputation_spam_penalty(post=question)
    assert event == ReputationEvent.objects.get(kind=Kind.SPAM_REMOVED)  # the row it wrote
    assert (event.user, event.amount, event.question_id) == (author, -100, question.pk)
    assert ledger(author) == [("spam_removed", -100)] and reputation(author) == 50
    reputation_spam_penalty(post=question_make(author=author))
    assert ledger_sum(author) == -50 and reputation(author) == 1


def test_reputation_never_goes_below_1_and_rows_keep_true_amounts():
    author = member()
    answer = answer_make(question=question_make(), author=author)
    vote_cast(actor=member(125), post=answer, value=-1)
    vote_cast(actor=member(125), post=answer, value=-1)
    assert ledger_sum(author) == -4 and reputation(author) == 1
    vote_cast(actor=member(15), post=answer, value=1)
    assert reputation(author) == 6  # the penalty is worked off first: max(1, −4 + 10)


# --- The daily cap -----------------------------------------------------------------------------


@pytest.fixture
def cap_25(settings):
    settings.MIANJING = {**settings.MIANJING, "REPUTATION_DAILY_CAP": 25}


def test_upvotes_past_the_cap_are_recorded_with_what_they_earned(cap_25):
    author = member()
    answer = answer_make(question=question_make(), author=author)
    for _ in range(4):
        vote_cast(actor=member(15), post=answer, value=1)
    assert ledger(author) == [("answer_upvoted", a) for a in (10, 10, 5, 0)]
    assert reputation(author) == 25


def test_reversing_a_capped_upvote_takes_back_exactly_what_it_earned(cap_25):
    author = member()
    answer = answer_make(question=question_make(), author=author)
    voters = [member(15) for _ in range(4)]
    for voter in voters:
        vote_cast(actor=voter, post=answer, value=1)
    vote_retract(actor=voters[3], post=answer)  # earned 0
    vote_retract(actor=voters[2], post=answer)  # earned 5
    assert ledger(author)[-2:] == [("reversal", 0), ("reversal", -5)]
    assert reputation(author) == 20
    vote_cast(actor=member(15), post=answer, value=1)  # room freed by the retraction
    assert ledger(author)[-1] == ("answer_upvoted", 5) and reputation(author) == 25


def test_cap_counts_questions_and_answers_together_and_spares_accepts_and_downvotes(cap_25):
    author, asker = member(), member()
    question = question_make(author=author)
    answer = answer_make(question=question_make(author=asker), author=author)
    vote_cast(actor=member(15), post=question, value=1)
    vote_cast(actor=member(15), post=answer, value=1)
    vote_cast(actor=member(15), post=answer, value=1)
    assert reputation(author) == 25
    answer_accept(actor=asker, answer=answer)
    vote_cast(actor=member(125), post=question, value=-1)
    assert reputation(author) == 25 + 15 - 2


def test_a_cap_below_one_upvote_lets_the_first_upvote_of_the_day_earn_the_whole_cap(settings):
    settings.MIANJING = {**settings.MIANJING, "REPUTATION_DAILY_CAP": 4}
    author = member()
    answer = answer_make(question=question_make(), author=author)
    vote_cast(actor=member(15), post=answer, value=1)
    vote_cast(actor=member(15), post=answer, value=1)
    assert ledger(author) == [("answer_upvoted", 4), ("answer_upvoted", 0)]
    assert reputation(author) == 4


def test_cap_is_per_day(cap_25):
    author = member()
    answer = answer_make(question=question_make(), author=author)
    for _ in range(3):
        vote_cast(actor=member(15), post=answer, value=1)
    ReputationEvent.objects.filter(user=author).update(
        created_at=timezone.now() - timedelta(days=1, hours=1)
    )
    vote_cast(actor=member(15), post=answer, value=1)
    assert ledger(author)[-1] == ("answer_upvoted", 10) and reputation(author) == 35


def test_default_cap_is_200():
    author = member()
    answer = answer_make(question=question_make(), author=author)
    for _ in range(21):
        vote_cast(actor=member(15), post=answer, value=1)
    assert reputation(author) == 200 and ledger(author)[-1] == ("answer_upvoted", 0)


# --- Reversals ---------------------------------------------------------------------------------


def _unreversed(user) -> list[tuple[str, int]]:
    rows = ReputationEvent.objects.filter(user=user, reversed_by__isnull=True)
    return list(
        rows.exclude(kind__in=[Kind.REVERSAL, Kind.BONUS]).order_by("pk")
        .values_list("kind", "amount")
    )  # fmt: skip


def test_retracting_reverses_the_votes_events():
    author, voter = member(), member(200)
    answer = answer_make(question=question_make(), author=author)
    vote_cast(actor=voter, post=answer, value=-1)
    vote_retract(actor=voter, post=answer)
    assert ledger(author) == [("downvoted", -2), ("reversal", 2)]
    assert ledger(voter) == [("downvote_cast", -1), ("reversal", 1)]
    assert reputation(author) == 1 and reputation(voter) == 200
    reversal = ReputationEvent.objects.get(user=author, kind=Kind.REVERSAL)
    assert reversal.reverses.kind == Kind.DOWNVOTED and reversal.answer_id == answer.pk
    assert not ReputationEvent.objects.filter(vote__isnull=False).exists()  # the vote is gone


def test_switching_reverses_and_writes_the_new_events():
    author, voter = member(50), member(200)
    answer = answer_make(question=question_make(), author=author)
    vote_cast(actor=voter, post=answer, value=1)
    vote_cast(actor=voter, post=answer, value=-1)
    assert ledger(author) == [("answer_upvoted", 10), ("reversal", -10), ("downvoted", -2)]
    assert _unreversed(author) == [("downvoted", -2)]
    vote_cast(actor=voter, post=answer, value=1)
    assert _unreversed(author) == [("answer_upvoted", 10)] and _unreversed(voter) == []
    assert reputation(author) == 60 and reputation(voter) == 200
    answer.refresh_from_db()
    assert answer.score == 1


def test_switching_and_removing_the_accept_reverses_it():
    asker, first_author, second_author = member(), member(), member()
    question = question_make(author=asker)
    first = answer_make(question=question, author=first_author)
    second = answer_make(question=question, author=second_author)
    answer_accept(actor=asker, answer=first)
    answer_accept(actor=asker, answer=second)
    assert ledger(first_author) == [("answer_accepted", 15), ("reversal", -15)]
    assert _unreversed(asker) == [("accepted_an_answer", 2)]
    assert reputation(first_author) == 1 and reputation(second_author) == 15
    answer_unaccept(actor=asker, answer=second)
    assert reputation(second_author) == 1 and reputation(asker) == 1
    assert ledger_sum(asker) == 0 and _unreversed(asker) == []


# --- Deleting a post reverses what it earned ---------------------------------------------------


def test_post_reputation_reverse_of_an_answer():
    asker, author = member(), member()
    answer = answer_make(question=question_make(author=asker), author=author)
    upvoter, downvoter = member(15), member(125)
    vote_cast(actor=upvoter, post=answer, value=1)
    vote_cast(actor=downvoter, post=answer, value=-1)
    answer_accept(actor=asker, answer=answer)
    reputation_spam_penalty(post=answer)
    assert post_reputation_reverse(post=answer) == 5  # +10, −2, −1, +15, +2
    assert _unreversed(author) == [("spam_removed", -100)]  # the penalty stays
    assert reputation(downvoter) == 125 and reputation(asker) == 1  # the −1 and +2 go back too
    assert post_reputation_reverse(post=answer) == 0  # idempotent
    assert reputation(author) == 1


def test_post_reputation_reverse_of_a_question_takes_its_answers_earnings():
    asker, answerer = member(), member()
    question = question_make(author=asker)
    answer = answer_make(question=question, author=answerer)
    other = answer_make(question=question_make(), author=answerer)
    vote_cast(actor=member(15), post=question, value=1)
    vote_cast(actor=member(15), post=answer, value=1)
    vote_cast(actor=member(15), post=other, value=1)
    answer_accept(actor=asker, answer=answer)
    post_reputation_reverse(post=question)
    assert ledger_sum(asker) == 0
    assert _unreversed(answerer) == [("answer_upvoted", 10)]  # the other question's
    assert reputation(answerer) == 10


def test_unaccepting_after_the_answer_was_reversed_does_not_reverse_twice():
    asker, author = member(), member()
    answer = answer_make(question=question_make(author=asker), author=author)
    answer_accept(actor=asker, answer=answer)
    post_reputation_reverse(post=answer)
    answer_unaccept(actor=asker, answer=answer)
    assert ledger(author) == [("answer_accepted", 15), ("reversal", -15)]


# --- Reconciliation ----------------------------------------------------------------------------


def _random_history(seed: int, steps: int) -> None:
    """A random mix of everything that moves scores and reputation, through the services."""
    rng = random.Random(seed)
    voters = [member(rng.choice([1, 15, 125, 130])) for _ in range(8)]
    authors = voters[:4] + [member() for _ in range(2)]
    questions = [question_make(author=rng.choice(authors)) for _ in range(4)]
    answers = [
        answer_make(question=rng.choice(questions), author=rng.choice(authors)) for _ in range(8)
    ]
    posts = questions + answers
    refusals = (PermissionDenied, ValidationError, VoteLimitReached)
    for _ in range(steps):
        actor, post = rng.choice(voters), rng.choice(posts)
        action = rng.random()
        try:
            if action < 0.55:
                vote_cast(actor=actor, post=post, value=rng.choice([1, -1]))
            elif action < 0.7:
                vote_retract(actor=actor, post=post)
            elif action < 0.8:
                answer = rng.choice(answers)
                asker = Question.objects.get(pk=answer.question_id).author
                (answer_accept if rng.random() < 0.7 else answer_unaccept)(
                    actor=asker, answer=answer
                )
            elif action < 0.85:
                reputation_grant(actor=None, user=actor, amount=rng.randint(-50, 50) or 1,
                                 reason="random")  # fmt: skip
            elif action < 0.9:
                Vote.objects.filter(pk__in=Vote.objects.order_by("?")[:3]).update(
                    updated_at=timezone.now() - timedelta(minutes=10)
                )  # some votes lock in
            elif action < 0.93:
                reputation_spam_penalty(post=post)
            elif action < 0.96:
                post_reputation_reverse(post=post)
            else:
                model = type(post)
                model.objects.filter(pk=post.pk).update(updated_at=timezone.now())  # an edit
        except refusals:
            pass


def test_reconcile_finds_no_difference_after_a_random_history():
    _random_history(seed=20240611, steps=400)
    assert Vote.objects.count() > 10 and ReputationEvent.objects.count() > 50
    assert reputation_differences() == []
    out = StringIO()
    call_command("reconcile_reputation", stdout=out)
    assert "No differences" in out.getvalue()


def test_reconcile_reports_and_fixes_corruption():
    _random_history(seed=7, steps=150)
    user = User.objects.order_by("pk").last()
    answer = Answer.objects.order_by("pk").first()
    User.objects.filter(pk=user.pk).update(reputation=F("reputation") + 7)
    Answer.objects.filter(pk=answer.pk).update(score=F("score") - 3)
    user.refresh_from_db()
    answer.refresh_from_db()
    expected = [
        Difference("answer score", answer.pk, answer.score, answer.score + 3),
        Difference("reputation", user.pk, user.reputation, user.reputation - 7),
    ]
    assert reputation_differences() == expected
    out = StringIO()
    with pytest.raises(CommandError, match="2 differences"):
        call_command("reconcile_reputation", stdout=out)
    assert str(expected[0]) in out.getvalue() and str(expected[1]) in out.getvalue()
    call_command("reconcile_reputation", "--fix", stdout=StringIO())
    assert reputation_differences() == []
    assert reputation(user) == expected[1].computed


def test_reconcile_reports_a_reversal_that_does_not_undo_its_event():
    author = member()
    vote_cast(actor=member(15), post=question_make(author=author), value=1)
    original = ReputationEvent.objects.get(kind=Kind.QUESTION_UPVOTED)
    broken = ReputationEvent.objects.create(user=author, kind=Kind.REVERSAL, amount=-3,
                                            reverses=original)  # fmt: skip
    User.objects.filter(pk=author.pk).update(reputation=7)
    assert reputation_differences() == [Difference("reversal", broken.pk, -3, -10)]


# --- Grants ------------------------------------------------------------------------------------


def test_grant_command_writes_a_bonus_event():
    user = member(username="Alice")
    out = StringIO()
    call_command("grant_reputation", "alice", "500", "--reason", "迁移自旧站", stdout=out)
    event = ReputationEvent.objects.get(user=user)
    assert (event.kind, event.amount, event.reason) == ("bonus", 500, "迁移自旧站")
    assert reputation(user) == 500 and "500" in out.getvalue()
    call_command("grant_reputation", "Alice", "-120", "--reason", "correction", stdout=out)
    assert reputation(user) == 380 and reputation_differences() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody", "10", "--reason", "x"], "No user"),
        (["alice", "0", "--reason", "x"], "other than 0"),
        (["alice", "100001", "--reason", "x"], "100000"),
        (["alice", "10", "--reason", "   "], "why"),
        (["alice", "10", "--reason", "长" * 201], "200"),
        (["alice", "10"], "reason"),
        (["alice", "ten", "--reason", "x"], "invalid int"),
    ],
)
def test_grant_command_refuses_bad_input(args, message):
    member(username="alice")
    with translation.override("en"), pytest.raises(CommandError, match=message):
        call_command("grant_reputation", *args, stdout=StringIO())
    assert not ReputationEvent.objects.exists()


def test_a_grant_may_be_exactly_the_largest_amount_with_the_longest_reason():
    user = member()
    reason = "长" * 200
    event = reputation_grant(actor=None, user=user, amount=100_000, reason=reason)
    assert (event.amount, event.reason) == (100_000, reason) and reputation(user) == 100_000
    reputation_grant(actor=None, user=user, amount=-100_000, reason=reason)
    assert reputation(user) == 1  # the ledger's sum is 0
    with pytest.raises(ValidationError) as refused:
        reputation_grant(actor=None, user=user, amount=10, reason=reason + "长")
    assert list(refused.value.message_dict) == ["reason"]


def test_only_moderators_grant_through_the_service():
    with pytest.raises(PermissionDenied):
        reputation_grant(actor=member(5000), user=member(), amount=10, reason="friend")
    assert not ReputationEvent.objects.exclude(amount=5000).exists()
    moderator, user = moderator_create(), member()
    event = reputation_grant(actor=moderator, user=user, amount=10, reason="seed")
    log = ModerationAction.objects.get(action="reputation_grant")
    assert (log.actor, log.target_user, log.details) == (
        moderator, user, {"amount": 10, "event": event.pk}
    )  # fmt: skip
    assert log.is_public is False  # in the moderators' log only


def _staff(client):
    staff = UserFactory(is_staff=True)  # staff are moderators
    staff.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(staff)
    return staff


def test_moderator_grants_from_the_admin(client):
    staff = _staff(client)
    first, second = member(), member(30)
    response = client.post(
        "/admin/accounts/user/",
        {"action": "grant_reputation", "_selected_action": [first.pk, second.pk],
         "amount": "100", "reason": "社区种子成员"},
    )  # fmt: skip
    assert response.status_code == 302
    assert reputation(first) == 100 and reputation(second) == 130
    assert ModerationAction.objects.filter(actor=staff, action="reputation_grant").count() == 2


def test_admin_grant_with_bad_input_grants_nothing(client):
    _staff(client)
    user = member()
    response = client.post(
        "/admin/accounts/user/",
        {"action": "grant_reputation", "_selected_action": [user.pk], "amount": "", "reason": ""},
        follow=True,
    )
    assert response.status_code == 200
    assert not ReputationEvent.objects.exists() and reputation(user) == 1


def test_non_staff_cannot_use_the_admin(client):
    client.force_login(member())
    user = member()
    response = client.post(
        "/admin/accounts/user/",
        {"action": "grant_reputation", "_selected_action": [user.pk], "amount": "9",
         "reason": "x"},
    )  # fmt: skip
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not ReputationEvent.objects.exists()


# --- Undeleting a post restores what its deletion reversed ---------------------------------------


def test_undeleting_an_answer_restores_what_its_deletion_reversed():
    asker, author = member(), member()
    answer = answer_make(question=question_make(author=asker), author=author)
    upvoter, downvoter = member(15), member(125)
    vote_cast(actor=upvoter, post=answer, value=1)
    vote_cast(actor=downvoter, post=answer, value=-1)
    answer_accept(actor=asker, answer=answer)
    mod = moderator_create()
    post_delete(actor=mod, post=answer)
    assert reputation(author) == 1 and reputation(asker) == 1 and reputation(downvoter) == 125
    post_undelete(actor=mod, post=answer)
    # +10 −2 +15 for the author, +2 for the asker, −1 for the downvoter: as before the delete.
    assert reputation(author) == 10 - 2 + 15  # the ledger's sum (1 is only a floor)
    assert reputation(asker) == 2 and reputation(downvoter) == 125 - 1
    assert sorted(_unreversed(author)) == [("answer_accepted", 15), ("answer_upvoted", 10),
                                           ("downvoted", -2)]  # fmt: skip


def test_restoring_returns_the_number_of_events_written_again():
    asker, author = member(), member()
    answer = answer_make(question=question_make(author=asker), author=author)
    vote_cast(actor=member(15), post=answer, value=1)
    vote_cast(actor=member(125), post=answer, value=-1)
    reversals = post_reputation_reversals(post=answer)  # +10, −2 and the voter's −1
    ids = [r.pk for r in reversals]
    assert post_reputation_restore(post=answer, reversal_ids=ids) == 3
    assert reputation(author) == 10 - 2


def test_a_vote_retracted_after_an_undelete_is_reversed_once_and_a_second_delete_reverses_again():
    author = member()
    question = question_make(author=author)
    voter = member(15)
    vote_cast(actor=voter, post=question, value=1)
    mod = moderator_create()
    post_delete(actor=mod, post=question)
    post_undelete(actor=mod, post=question)
    assert reputation(author) == 10
    post_delete(actor=mod, post=question)
    assert reputation(author) == 1 and _unreversed(author) == []
    post_undelete(actor=mod, post=question)
    assert reputation(author) == 10
    vote_retract(actor=voter, post=question)
    assert reputation(author) == 1 and _unreversed(author) == []


def test_undeleting_a_question_leaves_an_answer_deleted_on_its_own_reversed():
    asker, answerer = member(), member()
    question = question_make(author=asker)
    answer = answer_make(question=question, author=answerer)
    vote_cast(actor=member(15), post=answer, value=1)
    vote_cast(actor=member(15), post=question, value=1)
    mod = moderator_create()
    post_delete(actor=mod, post=answer)
    post_delete(actor=mod, post=question)
    post_undelete(actor=mod, post=question)
    assert reputation(asker) == 10 and reputation(answerer) == 1
    post_undelete(actor=mod, post=answer)
    assert reputation(answerer) == 10
