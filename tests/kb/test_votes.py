"""Votes and accepts through the API and the services: permission matrices, bad input, the daily
limit, the 5-minute lock, query counts, privileges in /me/ and the public ledger."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone, translation

from accounts.models import ReputationEvent
from kb import permissions, privileges
from kb.models import Answer, Question, Vote
from kb.selectors.votes import viewer_votes, viewer_votes_attach
from kb.services.edits import post_edit
from kb.services.reputation import next_day_start, reputation_grant
from kb.services.votes import answer_accept, vote_cast
from tests.factories import UserFactory, answer_make, moderator_create, question_make

pytestmark = pytest.mark.django_db

Kind = ReputationEvent.Kind


@pytest.fixture(autouse=True)
def fresh_throttles():
    cache.clear()


def zh(message: str) -> str:
    """The API speaks Chinese: the message as the API gives it."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


def member(reputation: int = 1, **kwargs):
    """A member whose ledger gives `reputation` (a grant, like seeding a trusted member)."""
    user = UserFactory(**kwargs)
    if reputation > 1:
        reputation_grant(actor=None, user=user, amount=reputation, reason="test seed")
        user.refresh_from_db()
    return user


def post_of(kind: str, author=None) -> Question | Answer:
    question = question_make(author=author if kind == "question" else None)
    if kind == "question":
        return question
    return answer_make(question=question, author=author)


def vote_url(post) -> str:
    kind = "question" if isinstance(post, Question) else "answer"
    return f"/api/v1/{kind}s/{post.pk}/vote/"


def error_of(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


def score_of(post) -> int:
    post.refresh_from_db(fields=["score"])
    return post.score


# --- Permission matrix -------------------------------------------------------------------------


ROLES = {
    "anonymous": lambda author: None,
    "newcomer": lambda author: member(1),
    "upvoter": lambda author: member(15),
    "downvoter": lambda author: member(125),
    "author": lambda author: author,
    "moderator": lambda author: moderator_create(),  # reputation 1: moderators hold every privilege
}


@pytest.mark.parametrize(
    ("role", "value", "status"),
    [
        ("anonymous", 1, 401), ("anonymous", -1, 401),
        ("newcomer", 1, 403), ("newcomer", -1, 403),
        ("upvoter", 1, 200), ("upvoter", -1, 403),
        ("downvoter", 1, 200), ("downvoter", -1, 200),
        ("author", 1, 403), ("author", -1, 403),
        ("moderator", 1, 200), ("moderator", -1, 200),
    ],
)  # fmt: skip
@pytest.mark.parametrize("kind", ["question", "answer"])
def test_vote_permission_matrix(api_client, kind, role, value, status):
    author = UserFactory()
    post = post_of(kind, author)
    voter = ROLES[role](author)
    if voter is not None:
        api_client.force_authenticate(voter)
    response = api_client.post(vote_url(post), {"value": value})
    assert response.status_code == status, response.content
    assert score_of(post) == (value if status == 200 else 0)
    assert Vote.objects.count() == (1 if status == 200 else 0)
    if status == 200:
        assert response.json() == {"id": post.pk, "score": value, "vote": value}
    else:
        assert not ReputationEvent.objects.exclude(kind=Kind.BONUS).exists()


def test_newcomer_is_told_the_reputation_needed(api_client):
    api_client.force_authenticate(member(1))
    error = error_of(api_client.post(vote_url(post_of("answer")), {"value": 1}), 403)
    assert "15" in error["message"]


@pytest.mark.parametrize("kind", ["question", "answer"])
def test_cannot_vote_on_a_deleted_post(api_client, kind):
    post = post_of(kind)
    type(post).objects.filter(pk=post.pk).update(
        **({"status": Question.Status.DELETED} if kind == "question" else {"is_deleted": True})
    )
    api_client.force_authenticate(member(125))
    assert api_client.post(vote_url(post), {"value": 1}).status_code == 404  # hidden from them
    api_client.force_authenticate(moderator_create())  # sees it, still cannot vote
    error = error_of(api_client.post(vote_url(post), {"value": 1}), 403)
    assert error["message"] == zh("This post is deleted.")
    assert not Vote.objects.exists()


def test_cannot_vote_on_an_answer_of_a_deleted_question(api_client):
    answer = post_of("answer")
    Question.objects.filter(pk=answer.question_id).update(status=Question.Status.DELETED)
    api_client.force_authenticate(moderator_create())
    assert api_client.post(vote_url(answer), {"value": 1}).status_code == 403


@pytest.mark.parametrize("kind", ["question", "answer"])
@pytest.mark.parametrize("how", ["status", "locked_until"])
def test_cannot_vote_on_a_locked_post(api_client, kind, how):
    post = post_of(kind)
    question_lock = (
        {"status": Question.Status.LOCKED}
        if how == "status"
        else {"locked_until": timezone.now() + timedelta(days=1)}
    )
    Question.objects.filter(pk=post.pk if kind == "question" else post.question_id).update(
        **question_lock
    )
    api_client.force_authenticate(member(125))
    error = error_of(api_client.post(vote_url(post), {"value": 1}), 403)
    assert error["message"] == zh("This post is locked.")
    assert not Vote.objects.exists()


def test_suspended_member_cannot_vote(api_client):
    voter = member(125)
    voter.suspended_until = timezone.now() + timedelta(days=3)
    voter.save(update_fields=["suspended_until"])
    api_client.force_authenticate(voter)
    assert api_client.post(vote_url(post_of("answer")), {"value": 1}).status_code == 403


def test_unknown_post_is_404(api_client):
    api_client.force_authenticate(member(125))
    assert api_client.post("/api/v1/answers/999999/vote/", {"value": 1}).status_code == 404
    assert api_client.delete("/api/v1/questions/999999/vote/").status_code == 404


# --- Bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [{"value": 0}, {"value": 2}, {"value": -2}, {"value": "up"}, {}, {"value": None},
     {"value": 1.5}, {"value": [1]}, {"value": True}, {"vote": 1}],
)  # fmt: skip
def test_bad_vote_values_are_400_and_store_nothing(api_client, payload):
    post = post_of("answer")
    api_client.force_authenticate(member(125))
    error = error_of(api_client.post(vote_url(post), payload, format="json"), 400)
    assert error["code"] == "invalid" and "value" in error["fields"]
    assert not Vote.objects.exists() and score_of(post) == 0


@pytest.mark.parametrize("value", [0, 2, "1", None, True])
def test_service_refuses_bad_values(value):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        vote_cast(actor=member(125), post=post_of("answer"), value=value)
    assert not Vote.objects.exists()


def test_string_values_from_forms_are_accepted(api_client):
    post = post_of("answer")
    api_client.force_authenticate(member(125))
    response = api_client.post(vote_url(post), {"value": "-1"}, format="multipart")
    assert response.status_code == 200 and response.json()["vote"] == -1


# --- Set, repeat, switch, retract --------------------------------------------------------------


def test_repeating_a_vote_changes_nothing(api_client):
    post = post_of("answer")
    api_client.force_authenticate(member(15))
    first = api_client.post(vote_url(post), {"value": 1}).json()
    second = api_client.post(vote_url(post), {"value": 1}).json()
    assert first == second == {"id": post.pk, "score": 1, "vote": 1}
    assert Vote.objects.count() == 1
    assert ReputationEvent.objects.filter(kind=Kind.ANSWER_UPVOTED).count() == 1


def test_the_other_value_switches_the_vote(api_client):
    post = post_of("answer")
    api_client.force_authenticate(member(125))
    api_client.post(vote_url(post), {"value": 1})
    response = api_client.post(vote_url(post), {"value": -1})
    assert response.json() == {"id": post.pk, "score": -1, "vote": -1}
    assert Vote.objects.get().value == -1


def test_delete_retracts_the_vote(api_client):
    post = post_of("question")
    api_client.force_authenticate(member(15))
    api_client.post(vote_url(post), {"value": 1})
    response = api_client.delete(vote_url(post))
    assert response.status_code == 200
    assert response.json() == {"id": post.pk, "score": 0, "vote": None}
    assert not Vote.objects.exists() and score_of(post) == 0


def test_retracting_without_a_vote_changes_nothing(api_client):
    post = post_of("question")
    api_client.force_authenticate(member(15))
    assert api_client.delete(vote_url(post)).json() == {"id": post.pk, "score": 0, "vote": None}


def test_retracting_needs_no_privilege(api_client):
    """A member who fell below the threshold can still take back a vote."""
    post = post_of("answer")
    voter = member(15)
    vote_cast(actor=voter, post=post, value=1)
    reputation_grant(actor=None, user=voter, amount=-14, reason="correction")
    assert voter.reputation == 1
    api_client.force_authenticate(voter)
    assert api_client.delete(vote_url(post)).json()["vote"] is None


def test_viewers_votes_are_their_own(api_client):
    post = post_of("answer")
    for value in (1, 1, -1):
        vote_cast(actor=member(125), post=post, value=value)
    assert score_of(post) == 1
    api_client.force_authenticate(member(125))
    assert api_client.delete(vote_url(post)).json() == {"id": post.pk, "score": 1, "vote": None}


# --- The 5-minute lock ------------------------------------------------------------------------


def _age_votes(minutes: int) -> None:
    """Votes set `minutes` ago, on posts last edited before that."""
    long_ago = timezone.now() - timedelta(days=1)
    Question.objects.update(created_at=long_ago, updated_at=long_ago)
    Answer.objects.update(created_at=long_ago, updated_at=long_ago)
    Vote.objects.update(updated_at=timezone.now() - timedelta(minutes=minutes))


def test_vote_can_change_within_the_window(api_client):
    post = post_of("answer")
    api_client.force_authenticate(member(125))
    api_client.post(vote_url(post), {"value": 1})
    _age_votes(4)
    assert api_client.post(vote_url(post), {"value": -1}).status_code == 200
    _age_votes(4)
    assert api_client.delete(vote_url(post)).status_code == 200


def test_vote_is_locked_after_the_window(api_client):
    post = post_of("answer")
    api_client.force_authenticate(member(125))
    api_client.post(vote_url(post), {"value": 1})
    _age_votes(6)
    error = error_of(api_client.post(vote_url(post), {"value": -1}), 403)
    locked = ("Your vote is locked in: it can be changed within %(n)d minutes of voting, or "
              "after the post is edited.")  # fmt: skip
    assert error["message"] == zh(locked) % {"n": 5}
    assert api_client.delete(vote_url(post)).status_code == 403
    assert api_client.post(vote_url(post), {"value": 1}).status_code == 200  # repeating is fine
    assert Vote.objects.get().value == 1 and score_of(post) == 1


def test_window_follows_settings(api_client, settings):
    settings.MIANJING = {**settings.MIANJING, "VOTE_CHANGE_WINDOW_SECONDS": 30}
    post = post_of("answer")
    api_client.force_authenticate(member(125))
    api_client.post(vote_url(post), {"value": 1})
    Answer.objects.update(updated_at=timezone.now() - timedelta(days=1))
    Vote.objects.update(updated_at=timezone.now() - timedelta(seconds=31))
    assert api_client.delete(vote_url(post)).status_code == 403


def test_editing_the_post_unlocks_the_vote(api_client):
    author = UserFactory()
    post = post_of("answer", author)
    api_client.force_authenticate(member(125))
    api_client.post(vote_url(post), {"value": 1})
    _age_votes(60)
    assert api_client.post(vote_url(post), {"value": -1}).status_code == 403
    post_edit(actor=author, post=post, base_revision=1, body=post.body + "\n\n补充一点。")
    assert api_client.post(vote_url(post), {"value": -1}).status_code == 200
    # The switch set the vote again: locked once more after the window.
    _age_votes(6)
    assert api_client.delete(vote_url(post)).status_code == 403


# --- The daily limit -------------------------------------------------------------------------


@pytest.fixture
def three_votes_a_day(settings):
    settings.MIANJING = {**settings.MIANJING, "VOTES_PER_DAY": 3}


def test_the_vote_past_the_daily_limit_is_429_with_the_reset_time(api_client, three_votes_a_day):
    voter = member(125)
    api_client.force_authenticate(voter)
    posts = [post_of("answer") for _ in range(4)]
    for post in posts[:3]:
        assert api_client.post(vote_url(post), {"value": 1}).status_code == 200
    response = api_client.post(vote_url(posts[3]), {"value": 1})
    error = error_of(response, 429)
    reset = next_day_start()
    assert error["code"] == "vote_limit_reached"
    assert error["reset_at"] == reset.isoformat()
    assert timezone.localtime(reset).strftime("%Y-%m-%d %H:%M") in error["message"]
    assert 0 < int(response["Retry-After"]) <= 24 * 3600
    assert not Vote.objects.filter(answer=posts[3]).exists() and score_of(posts[3]) == 0


def test_switching_at_the_limit_is_not_a_new_vote(api_client, three_votes_a_day):
    api_client.force_authenticate(member(125))
    posts = [post_of("question") for _ in range(3)]
    for post in posts:
        api_client.post(vote_url(post), {"value": 1})
    assert api_client.post(vote_url(posts[0]), {"value": -1}).status_code == 200


def test_yesterdays_votes_do_not_count(api_client, three_votes_a_day):
    voter = member(125)
    for _ in range(3):
        vote_cast(actor=voter, post=post_of("answer"), value=1)
    Vote.objects.update(created_at=timezone.now() - timedelta(days=1, minutes=1))
    api_client.force_authenticate(voter)
    assert api_client.post(vote_url(post_of("answer")), {"value": 1}).status_code == 200


def test_limit_is_per_member(api_client, three_votes_a_day):
    post = post_of("answer")
    for _ in range(5):
        vote_cast(actor=member(15), post=post, value=1)
    assert score_of(post) == 5


# --- Accepting ---------------------------------------------------------------------------------


def accept_url(answer) -> str:
    return f"/api/v1/answers/{answer.pk}/accept/"


@pytest.mark.parametrize(
    ("role", "status"),
    [("anonymous", 401), ("stranger", 403), ("answerer", 403), ("asker", 200),
     ("moderator", 403)],
)  # fmt: skip
def test_accept_permission_matrix(api_client, role, status):
    asker, answerer = UserFactory(), UserFactory()
    answer = answer_make(question=question_make(author=asker), author=answerer)
    users = {"anonymous": None, "stranger": member(2000), "answerer": answerer, "asker": asker,
             "moderator": moderator_create()}  # fmt: skip
    if users[role] is not None:
        api_client.force_authenticate(users[role])
    response = api_client.post(accept_url(answer))
    assert response.status_code == status, response.content
    answer.question.refresh_from_db()
    assert answer.question.accepted_answer_id == (answer.pk if status == 200 else None)
    if status == 200:
        assert response.json() == {"question_id": answer.question_id,
                                   "accepted_answer_id": answer.pk}  # fmt: skip


def test_asker_switches_and_unaccepts(api_client):
    asker = UserFactory()
    question = question_make(author=asker)
    first, second = answer_make(question=question), answer_make(question=question)
    api_client.force_authenticate(asker)
    api_client.post(accept_url(first))
    assert api_client.post(accept_url(second)).json()["accepted_answer_id"] == second.pk
    # Unaccepting an answer that is not the accepted one leaves the accept alone.
    assert api_client.delete(accept_url(first)).json()["accepted_answer_id"] == second.pk
    assert api_client.delete(accept_url(second)).json()["accepted_answer_id"] is None
    question.refresh_from_db()
    assert question.accepted_answer_id is None


def test_accepted_answer_is_listed_first(api_client):
    asker = UserFactory()
    question = question_make(author=asker)
    answers = [answer_make(question=question) for _ in range(3)]
    vote_cast(actor=member(15), post=answers[0], value=1)
    answer_accept(actor=asker, answer=answers[2])
    listed = api_client.get(f"/api/v1/questions/{question.pk}/answers/").json()["results"]
    assert [a["id"] for a in listed] == [answers[2].pk, answers[0].pk, answers[1].pk]
    assert [a["is_accepted"] for a in listed] == [True, False, False]


@pytest.mark.parametrize("status", [Question.Status.LOCKED, Question.Status.DELETED])
def test_cannot_accept_on_a_locked_or_deleted_question(api_client, status):
    asker = UserFactory()
    answer = answer_make(question=question_make(author=asker))
    Question.objects.filter(pk=answer.question_id).update(status=status)
    api_client.force_authenticate(asker)
    assert api_client.post(accept_url(answer)).status_code == 403
    assert not Question.objects.filter(accepted_answer__isnull=False).exists()


def test_cannot_accept_a_deleted_answer(api_client):
    asker, answerer = UserFactory(), UserFactory()
    answer = answer_make(question=question_make(author=asker), author=answerer)
    Answer.objects.filter(pk=answer.pk).update(is_deleted=True)
    api_client.force_authenticate(asker)
    assert api_client.post(accept_url(answer)).status_code == 404


def test_an_answer_moved_by_a_merge_after_it_was_read_is_not_accepted_on_its_old_question():
    """The asker's page read the answer under their question; before the accept, a merge moved
    it to another question. The accept locks the question it was read under and must not set
    that question's accepted answer to an answer it no longer has."""
    asker, answerer = UserFactory(), UserFactory()
    old, new = question_make(author=asker), question_make()
    answer = answer_make(question=old, author=answerer)  # read: answer.question_id == old.pk
    Answer.objects.filter(pk=answer.pk).update(question=new)  # the merge, meanwhile
    with pytest.raises(permissions.Refused) as refused, translation.override("en"):
        answer_accept(actor=asker, answer=answer)
    assert refused.value.code == "moved"
    assert str(refused.value.refusal) == "This answer has moved to another question."
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.accepted_answer_id is None and new.accepted_answer_id is None
    assert not ReputationEvent.objects.exists()


# --- Query counts ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["question", "answer"])
def test_vote_endpoint_query_count_is_bounded(api_client, django_assert_max_num_queries, kind):
    voter = member(125)
    api_client.force_authenticate(voter)
    posts = [post_of(kind) for _ in range(3)]
    vote_cast(actor=member(125), post=posts[0], value=1)  # other votes do not add queries
    # Read, lock the post, find the vote, count today's, lock the users, write the vote, the
    # ledger (cap, reversals, events), the score and the reputations; +1 for the moderator check.
    with django_assert_max_num_queries(14):
        assert api_client.post(vote_url(posts[0]), {"value": 1}).status_code == 200
    with django_assert_max_num_queries(13):
        assert api_client.post(vote_url(posts[0]), {"value": -1}).status_code == 200
    with django_assert_max_num_queries(14):
        assert api_client.delete(vote_url(posts[0])).status_code == 200
    with django_assert_max_num_queries(6):
        assert api_client.delete(vote_url(posts[1])).status_code == 200  # nothing to retract


def test_viewer_votes_is_one_query_whatever_the_number_of_answers(django_assert_num_queries):
    question = question_make()
    answers = [answer_make(question=question) for _ in range(6)]
    viewer = member(125)
    vote_cast(actor=viewer, post=question, value=-1)
    vote_cast(actor=viewer, post=answers[1], value=1)
    vote_cast(actor=viewer, post=answers[4], value=-1)
    vote_cast(actor=member(125), post=answers[2], value=1)  # someone else's
    with django_assert_num_queries(1):
        votes = viewer_votes_attach(viewer=viewer, question=question, answers=answers)
    assert votes.question == -1 and votes.answers == {answers[1].pk: 1, answers[4].pk: -1}
    assert question.viewer_vote == -1
    assert [a.viewer_vote for a in answers] == [None, 1, None, None, -1, None]
    assert votes.on(answers[1]) == 1 and votes.on(question) == -1


def test_viewer_votes_of_anonymous_take_no_query(django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    question = question_make()
    with django_assert_num_queries(0):
        votes = viewer_votes(viewer=AnonymousUser(), question=question, answers=[])
    assert votes.question is None and votes.answers == {}


# --- Privileges ------------------------------------------------------------------------------


def _granted(me: dict) -> set[str]:
    return {p["code"] for p in me["privileges"] if p["granted"]}


@pytest.mark.real_privileges
def test_me_lists_privileges(api_client):
    api_client.force_authenticate(member(125))
    me = api_client.get("/api/v1/me/").json()
    assert _granted(me) == {"upvote", "flag", "comment", "downvote"}
    assert [p["reputation"] for p in me["privileges"]] == [
        15, 15, 50, 125, 300, 500, 1000, 1500, 2000, None
    ]  # fmt: skip
    first = me["privileges"][0]
    assert first["code"] == "upvote" and first["granted"] and first["label"]


def test_moderator_holds_every_privilege(api_client):
    api_client.force_authenticate(moderator_create())
    me = api_client.get("/api/v1/me/").json()
    assert all(p["granted"] for p in me["privileges"])


@pytest.mark.real_privileges
def test_me_query_count_with_privileges(api_client, django_assert_max_num_queries):
    api_client.force_authenticate(member(1))
    with django_assert_max_num_queries(2):
        me = api_client.get("/api/v1/me/").json()
    assert _granted(me) == set()


def test_thresholds_follow_settings(settings):
    settings.MIANJING = {**settings.MIANJING, "PRIVILEGE_DOWNVOTE": 20}
    user = member(20)
    assert privileges.has_privilege(user, privileges.DOWNVOTE)
    assert permissions.can_vote(user, post_of("answer"), -1)


@pytest.mark.parametrize(("reputation", "state"), [(999, "pending"), (1000, "saved")])
def test_members_with_the_edit_privilege_edit_directly(api_client, reputation, state):
    answer = post_of("answer")
    api_client.force_authenticate(member(reputation))
    response = api_client.patch(
        f"/api/v1/answers/{answer.pk}/", {"body": answer.body + "\n\n补充。", "base_revision": 1}
    )
    assert response.json()["status"] == state


# --- The public ledger -------------------------------------------------------------------------


def test_user_reputation_ledger_is_paginated_newest_first(api_client):
    author = UserFactory(username="作者")
    post = post_of("answer", author)
    voters = [member(125) for _ in range(3)]
    for voter in voters:
        vote_cast(actor=voter, post=post, value=1)
    vote_cast(actor=voters[0], post=post, value=-1)  # reverses the +10, adds −2
    response = api_client.get("/api/v1/users/作者/reputation/", {"page_size": 2})
    body = response.json()
    assert response.status_code == 200 and body["count"] == 5 and len(body["results"]) == 2
    newest = body["results"]
    assert [e["kind"] for e in newest] == ["downvoted", "reversal"]
    assert newest[0]["amount"] == -2 and newest[0]["answer_id"] == post.pk
    assert newest[0]["question_id"] == post.question_id
    assert newest[1]["amount"] == -10 and newest[1]["reverses"]["kind"] == "answer_upvoted"
    second = api_client.get(body["next"]).json()
    assert [e["amount"] for e in second["results"]] == [10, 10]


def test_user_reputation_ledger_query_count(api_client, django_assert_num_queries):
    author = UserFactory()
    post = post_of("question", author)
    for _ in range(4):
        vote_cast(actor=member(15), post=post, value=1)
    with django_assert_num_queries(3):  # the user, the count, the page
        response = api_client.get(f"/api/v1/users/{author.username}/reputation/")
    assert len(response.json()["results"]) == 4


def test_unknown_users_ledger_is_404(api_client):
    assert api_client.get("/api/v1/users/nobody/reputation/").status_code == 404
