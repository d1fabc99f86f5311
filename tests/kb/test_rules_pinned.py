"""Rules that mutation testing (tools/mutate.py, docs/mutation.md) found unpinned: each test fails
when its rule is broken by one change (a flipped comparison, a dropped condition, a removed row
lock). Expectations are written by hand, never computed with the code under test."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone, translation

from accounts.models import User
from kb import permissions
from kb.models import Answer, CloseVote, Question
from kb.permissions import Refused
from kb.services import closing
from kb.services.reputation import day_start, next_day_start, reputation_grant
from kb.services.votes import (
    VoteLimitReached,
    VoteLocked,
    answer_accept,
    answer_unaccept,
    vote_cast,
    vote_retract,
)
from tests.factories import TagFactory, UserFactory, answer_make, moderator_create, question_make

pytestmark = pytest.mark.django_db


def member(reputation: int = 1, **fields) -> User:
    user = UserFactory(**fields)
    if reputation > 1:  # stored reputation is the ledger's sum (at least 1)
        reputation_grant(actor=None, user=user, amount=reputation, reason="test seed")
        user.refresh_from_db()
    return user


def code(refusal) -> str | None:
    return None if refusal is None else refusal.code


@pytest.fixture
def clock(monkeypatch):
    """Stop the clock at one instant (django.utils.timezone.now, which the rules call), to test
    what happens exactly when a suspension or a lock ends."""
    instant = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: instant)
    return instant


# --- Refusals: what a refused call carries ---------------------------------------------------


def test_a_refused_call_carries_its_refusal_code_and_message():
    asker = member()
    answer = answer_make(question=question_make(author=asker))
    with translation.override("en"), pytest.raises(Refused) as refused:
        answer_accept(actor=member(5000), answer=answer)
    expected = permissions.Refusal("not_asker", "Only the asker can accept an answer.")
    assert refused.value.refusal == expected
    assert refused.value.code == "not_asker"
    assert str(refused.value) == "Only the asker can accept an answer."


def test_a_visitor_is_asked_to_log_in_for_the_action_at_hand():
    from django.contrib.auth.models import AnonymousUser

    visitor = AnonymousUser()
    question = question_make()
    with translation.override("en"):
        messages = {
            "write": permissions.member_refusal(visitor).message,
            "ask": permissions.ask_refusal(visitor).message,
            "answer": permissions.answer_refusal(visitor, question).message,
            "vote": permissions.vote_refusal(visitor, question, 1).message,
            "comment": permissions.comment_refusal(visitor, question).message,
        }
    assert messages == {
        "write": "Log in first.",
        "ask": "Log in to ask a question.",
        "answer": "Log in to answer.",
        "vote": "Log in to vote.",
        "comment": "Log in to comment.",
    }


def test_a_suspension_and_a_lock_end_at_their_instant(clock):
    """`suspended_until` and `locked_until` are the first instant the member may write again and
    the post is open again."""
    suspended = UserFactory(suspended_until=clock)
    assert code(permissions.member_refusal(suspended)) is None
    assert permissions.is_active_member(suspended)
    suspended.suspended_until = clock + timedelta(microseconds=1)
    assert code(permissions.member_refusal(suspended)) == "suspended"
    assert not permissions.is_active_member(suspended)
    question = question_make()
    question.locked_until = clock
    assert not permissions.post_is_locked(question)
    question.locked_until = clock + timedelta(microseconds=1)
    assert permissions.post_is_locked(question)


# --- Who the viewer is: anonymous, deactivated, suspended, staff -----------------------------


def roles() -> dict[str, object]:
    from django.contrib.auth.models import AnonymousUser

    later = timezone.now() + timedelta(days=2)
    return {
        "anonymous": AnonymousUser(),
        "deactivated": member(2000, is_active=False),
        "suspended": member(2000, suspended_until=later),
        "suspension over": member(2000, suspended_until=timezone.now() - timedelta(seconds=5)),
        "staff": member(1, is_staff=True),
        "moderator": moderator_create(),
        "suspended moderator": moderator_create(suspended_until=later),
        "member": member(2000),
    }


def test_member_refusal_names_each_kind_of_viewer():
    people = roles()
    expected = {
        "anonymous": "login_required",
        "deactivated": "inactive",
        "suspended": "suspended",
        "suspension over": None,
        "staff": None,
        "moderator": None,
        "suspended moderator": "suspended",
        "member": None,
    }
    assert {k: code(permissions.member_refusal(u)) for k, u in people.items()} == expected


def test_staff_accounts_are_moderators_and_suspension_stops_moderating():
    people = roles()
    moderating = {k for k, u in people.items() if permissions.can_moderate(u)}
    assert moderating == {"staff", "moderator"}
    assert permissions.is_moderator(people["suspended moderator"])
    assert not permissions.is_moderator(people["member"])
    active = {k for k, u in people.items() if permissions.is_active_member(u)}
    assert active == {"suspension over", "staff", "moderator", "member"}


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", "login_required"),
        ("deactivated", "inactive"),
        ("suspended", "suspended"),
        ("suspension over", None),
        ("staff", None),  # reputation 1, but staff hold every privilege
        ("suspended moderator", "suspended"),
    ],
)
def test_who_may_vote_down(who, expected):
    answer = answer_make(question=question_make())
    assert code(permissions.vote_refusal(roles()[who], answer, -1)) == expected


# --- Votes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reputation", "value", "expected"),
    [
        (14, 1, "needs_privilege"),
        (15, 1, None),
        (124, -1, "needs_privilege"),
        (125, -1, None),
        (1, None, None),  # retracting needs no privilege
    ],
)
def test_vote_privileges_start_exactly_at_their_thresholds(reputation, value, expected):
    post = question_make()
    assert code(permissions.vote_refusal(member(reputation), post, value)) == expected


def test_nobody_votes_on_deleted_or_locked_posts_or_answers_of_such_questions():
    voter = member(2000)
    question = question_make()
    answer = answer_make(question=question)
    assert code(permissions.vote_refusal(voter, answer, 1)) is None
    Question.objects.filter(pk=question.pk).update(status=Question.Status.DELETED)
    answer = Answer.objects.select_related("question").get(pk=answer.pk)
    # A member cannot see a deleted thread: to them it does not exist; a moderator sees it.
    assert code(permissions.vote_refusal(voter, answer, 1)) == "not_found"
    assert code(permissions.vote_refusal(moderator_create(), answer, 1)) == "deleted"

    question = question_make()
    answer = answer_make(question=question)
    Question.objects.filter(pk=question.pk).update(locked_until=timezone.now() + timedelta(1))
    answer = Answer.objects.select_related("question").get(pk=answer.pk)
    assert code(permissions.vote_refusal(voter, answer, 1)) == "locked"
    assert code(permissions.vote_refusal(voter, answer, None)) == "locked"
    Answer.objects.filter(pk=answer.pk).update(is_deleted=True)
    answer = Answer.objects.select_related("question").get(pk=answer.pk)
    assert code(permissions.vote_refusal(voter, answer, 1)) == "not_found"


def test_an_expired_lock_no_longer_locks_and_the_locked_status_does():
    question = question_make()
    question.locked_until = timezone.now() - timedelta(seconds=1)
    assert not permissions.post_is_locked(question)
    question.locked_until = timezone.now() + timedelta(minutes=1)
    assert permissions.post_is_locked(question)
    question.locked_until = None
    question.status = Question.Status.LOCKED
    assert permissions.post_is_locked(question)
    answer = answer_make(question=question_make())
    answer.locked_until = None
    assert not permissions.post_is_locked(answer)


def test_withdrawing_an_accept_is_the_askers_alone():
    asker = member()
    question = question_make(author=asker)
    answer = answer_make(question=question)
    answer_accept(actor=asker, answer=answer)
    for stranger in (member(5000), answer.author):
        with pytest.raises(Refused) as refused:
            answer_unaccept(actor=stranger, answer=answer)
        assert refused.value.code == "not_asker"
    question.refresh_from_db()
    assert question.accepted_answer_id == answer.pk
    answer_unaccept(actor=asker, answer=answer)
    question.refresh_from_db()
    assert question.accepted_answer_id is None


def test_a_suspended_asker_cannot_accept_and_a_locked_question_takes_no_accept():
    asker = member()
    question = question_make(author=asker)
    answer = answer_make(question=question)
    User.objects.filter(pk=asker.pk).update(suspended_until=timezone.now() + timedelta(days=1))
    asker.refresh_from_db()
    with pytest.raises(Refused) as refused:
        answer_accept(actor=asker, answer=answer)
    assert refused.value.code == "suspended"
    User.objects.filter(pk=asker.pk).update(suspended_until=None)
    asker.refresh_from_db()
    Question.objects.filter(pk=question.pk).update(locked_until=timezone.now() + timedelta(1))
    with pytest.raises(Refused) as refused:
        answer_accept(actor=asker, answer=answer)
    assert refused.value.code == "locked"


def test_the_vote_day_starts_at_midnight_in_the_sites_time_zone(settings):
    settings.TIME_ZONE = "Asia/Shanghai"  # UTC+8, no daylight saving
    timezone.deactivate()
    # 2026-03-02 00:30 in Shanghai is 2026-03-01 16:30 UTC.
    now = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)
    assert day_start(now) == datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    assert next_day_start(now) == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    # One minute before local midnight still belongs to the day before.
    late = datetime(2026, 3, 1, 15, 59, tzinfo=UTC)
    assert day_start(late) == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    assert next_day_start(late) == datetime(2026, 3, 1, 16, 0, tzinfo=UTC)


def test_the_daily_vote_limit_counts_todays_votes_and_says_when_it_resets(settings):
    settings.MIANJING = {**settings.MIANJING, "VOTES_PER_DAY": 2}
    voter = member(200)
    posts = [question_make() for _ in range(4)]
    vote_cast(actor=voter, post=posts[0], value=1)
    # A vote cast before today's local midnight does not count against today.
    yesterday = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    voter.votes.update(created_at=yesterday - timedelta(seconds=1))
    vote_cast(actor=voter, post=posts[1], value=1)
    vote_cast(actor=voter, post=posts[2], value=1)
    with pytest.raises(VoteLimitReached) as limit:
        vote_cast(actor=voter, post=posts[3], value=1)
    local_now = timezone.localtime()
    tomorrow = (local_now + timedelta(days=1)).date()
    expected = datetime(tomorrow.year, tomorrow.month, tomorrow.day,
                        tzinfo=local_now.tzinfo)  # fmt: skip
    assert limit.value.reset_at == expected
    assert limit.value.limit == 2
    assert 0 < limit.value.retry_after <= 24 * 3600
    # Changing an existing vote is not a new vote: the limit does not apply.
    vote_retract(actor=voter, post=posts[2])


def test_changing_a_vote_within_the_window_and_not_after(settings):
    settings.MIANJING = {**settings.MIANJING, "VOTE_CHANGE_WINDOW_SECONDS": 300}
    voter = member(200)
    post = question_make()
    vote_cast(actor=voter, post=post, value=1)
    assert vote_cast(actor=voter, post=post, value=-1).score == -1
    Question.objects.filter(pk=post.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    voter.votes.update(updated_at=timezone.now() - timedelta(seconds=290))
    assert vote_cast(actor=voter, post=post, value=1).score == 1  # still within 300 s
    voter.votes.update(updated_at=timezone.now() - timedelta(seconds=301))
    with pytest.raises(VoteLocked) as locked_in:
        vote_cast(actor=voter, post=post, value=-1)
    assert " 5 " in str(locked_in.value)  # minutes, in the active language
    # An edit of the post after the vote opens it again.
    Question.objects.filter(pk=post.pk).update(updated_at=timezone.now())
    assert vote_cast(actor=voter, post=post, value=-1).score == -1
    Question.objects.filter(pk=post.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    voter.votes.update(updated_at=timezone.now() - timedelta(seconds=301))
    with pytest.raises(VoteLocked):
        vote_cast(actor=voter, post=post, value=1)
    assert " 5 " in str(locked_in.value)  # minutes, in the active language
    post.refresh_from_db()
    assert post.score == -1


def test_a_vote_must_be_one_or_minus_one():
    voter = member(200)
    post = question_make()
    for value in (0, 2, True, "1"):
        with pytest.raises(ValidationError):
            vote_cast(actor=voter, post=post, value=value)
    assert not voter.votes.exists()


def test_retracting_is_refused_on_a_locked_post_and_to_a_suspended_member():
    voter = member(200)
    question = question_make()
    vote_cast(actor=voter, post=question, value=1)
    Question.objects.filter(pk=question.pk).update(locked_until=timezone.now() + timedelta(1))
    with pytest.raises(Refused) as refused:
        vote_retract(actor=voter, post=question)
    assert refused.value.code == "locked"
    Question.objects.filter(pk=question.pk).update(locked_until=None)
    User.objects.filter(pk=voter.pk).update(suspended_until=timezone.now() + timedelta(days=1))
    voter.refresh_from_db()
    with pytest.raises(Refused) as refused:
        vote_retract(actor=voter, post=question)
    assert refused.value.code == "suspended"
    question.refresh_from_db()
    assert question.score == 1 and voter.votes.count() == 1


def test_a_vote_exactly_as_old_as_the_window_can_still_change(settings, clock):
    settings.MIANJING = {**settings.MIANJING, "VOTE_CHANGE_WINDOW_SECONDS": 300}
    voter = member(200)
    post = question_make()
    vote_cast(actor=voter, post=post, value=1)
    Question.objects.filter(pk=post.pk).update(updated_at=clock - timedelta(hours=1))
    voter.votes.update(updated_at=clock - timedelta(seconds=300))
    assert vote_cast(actor=voter, post=post, value=-1).score == -1
    voter.votes.update(updated_at=clock - timedelta(seconds=300, microseconds=1))
    with pytest.raises(VoteLocked):
        vote_cast(actor=voter, post=post, value=1)


def test_retry_after_rounds_up_to_whole_seconds_and_is_at_least_one(clock):
    def retry_after(seconds: float) -> int:
        reset_at = clock + timedelta(seconds=seconds)
        return VoteLimitReached(limit=3, reset_at=reset_at).retry_after

    assert retry_after(0.5) == 1
    assert retry_after(1.5) == 2
    assert retry_after(3600) == 3600
    assert retry_after(-5) == 1  # already past: try again at once, never 0 or less


def test_an_accept_decides_on_the_answer_as_it_is_now_not_as_the_caller_read_it():
    asker = member()
    answer = answer_make(question=question_make(author=asker))
    Answer.objects.filter(pk=answer.pk).update(is_deleted=True)  # `answer` still says not
    with pytest.raises(PermissionDenied):
        answer_accept(actor=asker, answer=answer)
    assert Question.objects.get(pk=answer.question_id).accepted_answer_id is None


def test_an_accept_reads_the_question_once_under_its_lock():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    asker = member()
    question = question_make(author=asker)
    answer = answer_make(question=question)
    with CaptureQueriesContext(connection) as queries:
        answer_accept(actor=asker, answer=answer)
    reads = [q["sql"] for q in queries if q["sql"].startswith('SELECT "kb_question"')]
    assert len(reads) == 1 and reads[0].endswith("FOR NO KEY UPDATE")


# --- Reputation -------------------------------------------------------------------------------


def test_reconcile_without_fix_reports_and_writes_nothing():
    voter = member(200)
    question = question_make()
    vote_cast(actor=voter, post=question, value=1)
    author = question.author
    User.objects.filter(pk=author.pk).update(reputation=F("reputation") + 7)
    Question.objects.filter(pk=question.pk).update(score=F("score") + 3)
    out = StringIO()
    with pytest.raises(CommandError, match="2 differences"):
        call_command("reconcile_reputation", stdout=out)
    author.refresh_from_db()
    question.refresh_from_db()
    assert (author.reputation, question.score) == (10 + 7, 1 + 3)
    call_command("reconcile_reputation", "--fix", stdout=StringIO())
    author.refresh_from_db()
    question.refresh_from_db()
    assert (author.reputation, question.score) == (10, 1)


# --- Close votes ------------------------------------------------------------------------------


@pytest.mark.parametrize("state,refusal", [("deleted", "not_found"), ("locked", "locked")])
def test_no_close_votes_on_deleted_or_locked_questions(state, refusal):
    voter = member(1500)
    question = question_make()
    if state == "deleted":
        Question.objects.filter(pk=question.pk).update(status=Question.Status.DELETED)
    else:
        Question.objects.filter(pk=question.pk).update(locked_until=timezone.now() + timedelta(1))
    with pytest.raises(PermissionDenied) as refused:
        closing.question_close(actor=voter, question=question, reason="off_topic")
    assert refused.value.code == refusal  # a deleted question does not exist to a member
    assert not CloseVote.objects.filter(question=question).exists()


def test_close_votes_need_exactly_the_threshold_and_moderators_close_locked_questions():
    question = question_make()
    assert code(permissions.close_vote_refusal(member(1499), question)) == "needs_privilege"
    assert code(permissions.close_vote_refusal(member(1500), question)) is None
    question.locked_until = timezone.now() + timedelta(days=1)
    assert code(permissions.close_vote_refusal(member(1500), question)) == "locked"
    assert code(permissions.close_vote_refusal(moderator_create(), question)) is None
    question.status = Question.Status.DELETED
    assert code(permissions.close_vote_refusal(moderator_create(), question)) == "deleted"


# --- Comments, flags, deletion ----------------------------------------------------------------


@pytest.mark.real_privileges
def test_comment_everywhere_starts_at_50_and_own_threads_are_always_open():
    TagFactory(name="llm")
    asker = member()
    question = question_make(author=asker)
    answer = answer_make(question=question)
    assert code(permissions.comment_refusal(member(49), question)) == "needs_privilege"
    assert code(permissions.comment_refusal(member(50), question)) is None
    assert code(permissions.comment_refusal(asker, answer)) is None  # an answer to my question
    assert code(permissions.comment_refusal(answer.author, answer)) is None  # my own answer
    question.locked_until = timezone.now() + timedelta(days=1)
    answer.question = question
    assert code(permissions.comment_refusal(asker, answer)) == "locked"
    assert code(permissions.comment_refusal(moderator_create(), answer)) is None
    answer.is_deleted = True
    assert code(permissions.comment_refusal(moderator_create(), answer)) == "deleted"


@pytest.mark.real_privileges
def test_flagging_starts_at_15_and_never_on_own_or_deleted_posts():
    TagFactory(name="llm")
    answer = answer_make(question=question_make())
    assert code(permissions.flag_refusal(member(14), answer)) == "needs_privilege"
    assert code(permissions.flag_refusal(member(15), answer)) is None
    assert code(permissions.flag_refusal(answer.author, answer)) == "own_post"
    answer.is_deleted = True
    assert code(permissions.flag_refusal(member(15), answer)) == "not_found"
    assert code(permissions.tag_create_refusal(member(299))) == "needs_privilege"
    assert code(permissions.tag_create_refusal(member(300))) is None


def test_who_may_delete_a_post():
    author = member()
    question = question_make(author=author)
    own = answer_make(question=question, author=author)
    assert code(permissions.delete_refusal(author, question)) is None  # only own answers
    assert code(permissions.delete_refusal(member(5000), question)) == "not_author"
    other = answer_make(question=question)
    assert code(permissions.delete_refusal(author, question)) == "answered_by_others"
    Answer.objects.filter(pk=other.pk).update(is_deleted=True)  # a deleted answer does not count
    assert code(permissions.delete_refusal(author, question)) is None
    Question.objects.filter(pk=question.pk).update(accepted_answer=own)
    own = Answer.objects.select_related("question").get(pk=own.pk)
    assert code(permissions.delete_refusal(author, own)) == "accepted"
    assert code(permissions.delete_refusal(moderator_create(), own)) is None
    own.question.locked_until = timezone.now() + timedelta(days=1)
    own.question.accepted_answer = None
    assert code(permissions.delete_refusal(author, own)) == "locked"
    own.is_deleted = True
    assert code(permissions.delete_refusal(moderator_create(), own)) == "already_deleted"
    User.objects.filter(pk=author.pk).update(is_active=False)
    author.refresh_from_db()
    assert code(permissions.delete_refusal(author, question)) == "inactive"


def test_who_may_undelete_a_post():
    author = member()
    answer = answer_make(question=question_make(), author=author)
    assert code(permissions.undelete_refusal(author, answer, deleted_by_author=True)) == (
        "not_deleted"
    )
    answer.is_deleted = True
    assert code(permissions.undelete_refusal(author, answer, deleted_by_author=True)) is None
    assert code(permissions.undelete_refusal(author, answer, deleted_by_author=False)) == (
        "not_author"
    )
    assert code(permissions.undelete_refusal(member(), answer, deleted_by_author=True)) == (
        "not_found"
    )
    moderator = moderator_create()
    assert code(permissions.undelete_refusal(moderator, answer, deleted_by_author=False)) is None
    answer.question.status = Question.Status.DELETED
    refusal = permissions.undelete_refusal(moderator, answer, deleted_by_author=False)
    assert code(refusal) == "question_deleted"


# --- Editing, viewing, answering --------------------------------------------------------------


def test_who_edits_directly_and_who_edits_at_all():
    author = member()
    question = question_make(author=author)
    assert permissions.can_edit_directly(author, question)
    assert not permissions.can_edit_directly(member(999), question)
    assert permissions.can_edit_directly(member(1000), question)
    assert permissions.can_edit(member(), question)
    question.locked_until = timezone.now() + timedelta(days=1)
    assert not permissions.can_edit_directly(author, question)
    assert permissions.can_edit_directly(moderator_create(), question)
    assert not permissions.can_edit(member(5000), question)
    assert permissions.can_edit(moderator_create(), question)
    question.locked_until = None
    question.status = Question.Status.DELETED
    assert not permissions.can_edit_directly(moderator_create(), question)
    assert not permissions.can_edit(member(5000), question)
    assert not permissions.can_edit(roles()["suspended"], question)


def test_deleted_and_flag_hidden_posts_are_seen_by_author_and_moderators_only():
    from django.contrib.auth.models import AnonymousUser

    question = question_make()
    viewers = {"author": question.author, "moderator": moderator_create(), "member": member(),
               "anonymous": AnonymousUser()}  # fmt: skip
    assert all(permissions.can_view(v, question) for v in viewers.values())
    for field, value in (("hidden_by_flags", True), ("status", Question.Status.DELETED)):
        post = Question.objects.get(pk=question.pk)
        setattr(post, field, value)
        seeing = {name for name, viewer in viewers.items() if permissions.can_view(viewer, post)}
        assert seeing == {"author", "moderator"}


def test_who_may_answer(settings):
    question = question_make()
    assert permissions.can_answer(member(), question)
    question.protected = True
    assert not permissions.can_answer(member(9), question)
    assert permissions.can_answer(member(10), question)
    assert permissions.can_answer(moderator_create(), question)
    question.protected = False
    question.status = Question.Status.CLOSED
    assert not permissions.can_answer(member(5000), question)
    question.status = Question.Status.OPEN
    question.locked_until = timezone.now() + timedelta(days=1)
    assert not permissions.can_answer(member(5000), question)
    assert not permissions.can_answer(roles()["suspended"], question_make())


def test_a_vote_and_a_post_last_changed_at_the_same_instant_is_locked_in(settings):
    """Only an edit *after* the vote reopens it: the same instant is not after."""
    settings.MIANJING = {**settings.MIANJING, "VOTE_CHANGE_WINDOW_SECONDS": 300}
    voter = member(200)
    post = question_make()
    vote_cast(actor=voter, post=post, value=1)
    instant = timezone.now() - timedelta(hours=1)
    Question.objects.filter(pk=post.pk).update(updated_at=instant)
    voter.votes.update(updated_at=instant)
    with pytest.raises(VoteLocked):
        vote_cast(actor=voter, post=post, value=-1)


@pytest.mark.parametrize(("seconds", "minutes"), [(30, "1"), (90, "2"), (600, "10")])
def test_the_locked_in_message_names_the_window_in_whole_minutes(settings, seconds, minutes):
    settings.MIANJING = {**settings.MIANJING, "VOTE_CHANGE_WINDOW_SECONDS": seconds}
    voter = member(200)
    post = question_make()
    vote_cast(actor=voter, post=post, value=1)
    Question.objects.filter(pk=post.pk).update(updated_at=timezone.now() - timedelta(hours=2))
    voter.votes.update(updated_at=timezone.now() - timedelta(hours=1))
    with pytest.raises(VoteLocked) as locked_in:
        vote_cast(actor=voter, post=post, value=-1)
    assert f" {minutes} " in str(locked_in.value)


def test_casting_the_same_vote_again_changes_nothing_and_says_so():
    voter = member(200)
    post = question_make()
    first = vote_cast(actor=voter, post=post, value=1)
    again = vote_cast(actor=voter, post=post, value=1)
    assert (first.changed, first.score, first.value) == (True, 1, 1)
    assert (again.changed, again.score, again.value) == (False, 1, 1)
    assert voter.votes.count() == 1
    retracted = vote_retract(actor=voter, post=post)
    assert (retracted.changed, retracted.score, retracted.value) == (True, 0, None)
    assert vote_retract(actor=voter, post=post).changed is False


# --- Rules no test asked directly (found by the mutation run) --------------------------------


def test_a_visitor_is_asked_to_log_in_even_where_a_member_would_find_nothing():
    from django.contrib.auth.models import AnonymousUser

    visitor = AnonymousUser()
    question = question_make()
    Question.objects.filter(pk=question.pk).update(status=Question.Status.DELETED)
    question.refresh_from_db()
    assert code(permissions.vote_refusal(visitor, question, 1)) == "login_required"
    assert code(permissions.edit_directly_refusal(visitor, question)) == "login_required"
    assert code(permissions.rollback_refusal(visitor, question)) == "login_required"
    assert code(permissions.tag_create_refusal(visitor)) == "login_required"
    assert code(permissions.comment_delete_refusal(visitor, object())) == "login_required"
    assert not permissions.can_ask(visitor) and permissions.can_ask(member())


def test_the_boolean_wrappers_say_what_their_rules_say():
    asker = member()
    question = question_make(author=asker)
    answer = answer_make(question=question)
    assert permissions.can_flag(asker, answer) and not permissions.can_flag(answer.author, answer)
    assert permissions.can_vote_close(member(1500), question)
    assert not permissions.can_vote_close(member(1499), question)


def test_what_moderators_see_refused_on_deleted_and_locked_posts():
    moderator = moderator_create()
    question = question_make()
    answer = answer_make(question=question)
    question.status = Question.Status.DELETED
    assert code(permissions.answer_refusal(moderator, question)) == "deleted"
    question.status = Question.Status.OPEN
    question.locked_until = timezone.now() + timedelta(days=1)
    # Without the privilege or authorship a member is told the post is locked, not why else.
    assert code(permissions.edit_directly_refusal(member(1), question)) == "locked"
    assert code(permissions.vote_refusal(answer.author, answer, 1)) == "own_post"
    suspended = member(2000, suspended_until=timezone.now() + timedelta(days=1))
    assert code(permissions.comment_refusal(suspended, answer)) == "suspended"
    assert code(permissions.comment_delete_refusal(suspended, object())) == "suspended"


def test_the_asker_may_not_edit_an_answer_of_their_deleted_question():
    asker = member()
    question = question_make(author=asker)
    answer = answer_make(question=question)
    answer.question.status = Question.Status.DELETED  # the asker still sees the thread
    assert code(permissions.edit_refusal(asker, answer)) == "deleted"


def test_who_may_roll_back_a_post():
    author = member()
    question = question_make(author=author)
    with translation.override("en"):
        refusal = permissions.rollback_refusal(member(999), question)
    assert refusal == permissions.Refusal(
        "needs_privilege", "Only the author and moderators can roll back this post."
    )
    assert code(permissions.rollback_refusal(author, question)) is None
    assert code(permissions.rollback_refusal(member(1000), question)) is None
    question.locked_until = timezone.now() + timedelta(days=1)
    assert code(permissions.rollback_refusal(author, question)) == "locked"
    assert code(permissions.rollback_refusal(moderator_create(), question)) is None
    question.locked_until = None
    question.hidden_by_flags = True  # hidden from members: not found, privilege or not
    assert code(permissions.rollback_refusal(member(1000), question)) == "not_found"
    question.hidden_by_flags = False
    question.status = Question.Status.DELETED  # moderators edit it, but nobody rolls it back
    assert code(permissions.rollback_refusal(moderator_create(), question)) == "deleted"


def test_a_deleted_comment_cannot_be_flagged():
    from kb.models import Comment
    from kb.services.comments import comment_create

    comment = comment_create(actor=member(), post=question_make(), body="一条评论")
    comment.is_deleted = True
    assert code(permissions.flag_refusal(member(15), comment)) == "deleted"
    assert isinstance(comment, Comment)


def test_who_may_review_a_suggested_edit():
    from tests.kb.moderation_support import suggest

    author = member()
    question = question_make(author=author)
    answer = answer_make(question=question)
    suggester = member()
    revision = suggest(answer, by=suggester)
    reviewer = member(500)
    stranger = member(499)
    assert permissions.can_review(reviewer, revision, answer)
    assert permissions.can_review(answer.author, revision, answer)  # the post's own author
    assert not permissions.can_review(stranger, revision, answer)
    assert not permissions.can_review(suggester, revision, answer)
    assert not permissions.can_review(roles()["suspended"], revision, answer)
    assert code(permissions.review_refusal(stranger, revision, answer)) == "needs_privilege"
    assert code(permissions.review_refusal(suggester, revision, answer)) == "own_edit"
    assert code(permissions.review_refusal(roles()["anonymous"], revision, answer)) == (
        "login_required"
    )
    answer.question.locked_until = timezone.now() + timedelta(days=1)  # the question only
    assert code(permissions.review_refusal(reviewer, revision, answer)) == "locked"
    answer.question.locked_until = None
    answer.question.status = Question.Status.DELETED  # the question only
    assert code(permissions.review_refusal(reviewer, revision, answer)) == "deleted"
    assert code(permissions.review_refusal(moderator_create(), revision, answer)) is None


def test_who_may_withdraw_a_close_vote():
    voter = member(1500)
    question = question_make()
    closing.question_close(actor=voter, question=question, reason="off_topic")
    vote = CloseVote.objects.get(question=question)
    assert code(permissions.close_vote_withdraw_refusal(voter, vote)) is None
    assert code(permissions.close_vote_withdraw_refusal(member(1500), vote)) == "not_voter"
    assert code(permissions.close_vote_withdraw_refusal(voter, None)) == "no_vote"
    vote.is_active = False
    assert code(permissions.close_vote_withdraw_refusal(voter, vote)) == "no_vote"
    assert code(permissions.close_vote_withdraw_refusal(roles()["suspended"], vote)) == (
        "suspended"
    )


def test_who_may_follow_a_question():
    question = question_make()
    people = roles()
    found = {name: code(permissions.follow_refusal(u, question)) for name, u in people.items()}
    assert found == {
        "anonymous": "login_required",
        "deactivated": "inactive",
        "suspended": None,  # following is reading, not writing
        "suspension over": None,
        "staff": None,
        "moderator": None,
        "suspended moderator": None,
        "member": None,
    }
    assert permissions.can_follow(people["member"], question)
    assert not permissions.can_follow(people["anonymous"], question)
    question.hidden_by_flags = True
    assert code(permissions.follow_refusal(people["member"], question)) == "not_found"
    assert code(permissions.follow_refusal(question.author, question)) is None
    question.status = Question.Status.DELETED
    assert code(permissions.follow_refusal(question.author, question)) == "not_found"


def test_an_inbox_and_moderator_messages():
    from notifications.services import notification_moderator_message_write

    moderator = moderator_create()
    recipient = member()
    message = notification_moderator_message_write(
        actor=moderator, recipient=recipient, text="注意"
    )
    assert permissions.can_read_notification(recipient, message)
    assert not permissions.can_read_notification(moderator, message)
    assert not permissions.can_read_notification(roles()["anonymous"], message)
    assert code(permissions.moderator_message_refusal(moderator, recipient)) is None
    assert code(permissions.moderator_message_refusal(moderator, moderator)) == "own_account"
    assert code(permissions.moderator_message_refusal(member(), recipient)) == "not_moderator"


def test_who_may_practise_and_which_questions():
    people = roles()
    found = {name: code(permissions.practice_refusal(u)) for name, u in people.items()}
    assert found == {
        "anonymous": "login_required",
        "deactivated": "inactive",
        "suspended": "inactive",
        "suspension over": None,
        "staff": None,
        "moderator": None,
        "suspended moderator": "inactive",
        "member": None,
    }
    question = question_make()
    assert permissions.can_practise_question(people["anonymous"], question)
    question.hidden_by_flags = True
    assert not permissions.can_practise_question(people["member"], question)
    assert permissions.can_practise_question(question.author, question)
    question.hidden_by_flags = False
    question.status = Question.Status.DELETED
    assert not permissions.can_practise_question(question.author, question)
