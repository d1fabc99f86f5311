"""Close and reopen votes, duplicates and merging, locks, protection, deletion, suspensions, the
audit log, the public timeline and new members' write limits."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from accounts.models import ReputationEvent
from kb.models import Answer, CloseVote, Comment, ModerationAction, Question, Tag
from kb.rules import rule
from kb.services.closing import question_close, question_reopen
from kb.services.comments import comment_create
from kb.services.edits import post_edit
from kb.services.moderation import (
    LOCKED_INDEFINITELY,
    post_delete,
    post_lock,
    post_undelete,
    question_merge,
    user_suspend,
)
from kb.services.votes import answer_accept, vote_cast
from tests.factories import UserFactory, answer_make, moderator_create, question_make
from tests.kb.moderation_support import client_for, closer, error_of, member, run_at_once
from tests.kb.test_search_index import question_vector

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def question():
    return question_make(author=UserFactory(), tags=("attention",))


# --- Closing and reopening --------------------------------------------------------------------


def test_three_close_votes_close_with_the_most_common_reason(question):
    voters = [closer() for _ in range(3)]
    first = question_close(actor=voters[0], question=question, reason="off_topic")
    assert not first.decided and first.votes == 1 and first.needed == 3
    question_close(actor=voters[1], question=question, reason="needs_details")
    result = question_close(actor=voters[2], question=question, reason="needs_details")
    assert result.decided
    question.refresh_from_db()
    assert question.status == "closed" and question.close_reason == "needs_details"
    assert not CloseVote.objects.filter(is_active=True).exists()
    log = ModerationAction.objects.get(action="question_close")
    assert log.is_public and log.details["voters"] == [v.username for v in voters]


def test_a_moderator_closes_alone(question):
    question_close(actor=moderator_create(), question=question, reason="opinion_based")
    question.refresh_from_db()
    assert question.status == "closed" and question.close_reason == "opinion_based"


def test_closing_as_duplicate_names_the_original_and_the_page_shows_the_banner(question, client):
    original = question_make(title="KV Cache 的原理是什么?")
    question_close(
        actor=moderator_create(), question=question, reason="duplicate", duplicate_of=original.pk
    )
    question.refresh_from_db()
    assert question.duplicate_of == original
    html = client.get(f"/questions/{question.pk}/").content.decode()
    assert "重复" in html and original.title in html
    assert client_for(None).get(f"/api/v1/questions/{question.pk}/").json()["duplicate_of"] == (
        original.pk
    )


def test_duplicate_votes_close_towards_the_original_most_named(question):
    a, b = question_make(), question_make()
    for target in (a.pk, b.pk, b.pk):
        question_close(actor=closer(), question=question, reason="duplicate", duplicate_of=target)
    question.refresh_from_db()
    assert question.duplicate_of_id == b.pk


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "reason"),
        ({"reason": "boring"}, "reason"),
        ({"reason": "duplicate"}, "duplicate_of"),
        ({"reason": "duplicate", "duplicate_of": 999999}, "duplicate_of"),
        ({"reason": "duplicate", "duplicate_of": "abc"}, "duplicate_of"),
        ({"reason": "off_topic", "duplicate_of": 1}, "duplicate_of"),
    ],
)
def test_bad_close_votes_store_nothing(question, payload, field):
    response = client_for(closer()).post(
        f"/api/v1/questions/{question.pk}/close/", payload, format="json"
    )
    assert field in error_of(response, 400)["fields"]
    assert not CloseVote.objects.exists()


def test_a_question_cannot_duplicate_itself_or_a_duplicate(question):
    with pytest.raises(ValidationError, match="itself"):
        question_close(
            actor=closer(), question=question, reason="duplicate", duplicate_of=question.pk
        )
    original, dup = question_make(), question_make()
    question_close(
        actor=moderator_create(), question=dup, reason="duplicate", duplicate_of=original.pk
    )
    with pytest.raises(ValidationError, match="itself a duplicate"):
        question_close(actor=closer(), question=question, reason="duplicate", duplicate_of=dup.pk)


def test_a_member_votes_to_close_once(question):
    who = closer()
    question_close(actor=who, question=question, reason="off_topic")
    with pytest.raises(ValidationError, match="already voted"):
        question_close(actor=who, question=question, reason="needs_details")
    assert CloseVote.objects.count() == 1


@pytest.mark.parametrize(
    ("role", "status", "closed"),
    [
        ("anonymous", 401, False),
        ("user", 403, False),
        ("closer", 200, False),
        ("author", 403, False),
        ("moderator", 200, True),
    ],
)
def test_close_permission_matrix(question, role, status, closed):
    actor = {"anonymous": None, "user": member(), "closer": closer(),
             "author": question.author, "moderator": moderator_create()}[role]  # fmt: skip
    response = client_for(actor).post(
        f"/api/v1/questions/{question.pk}/close/", {"reason": "off_topic"}
    )
    assert response.status_code == status, response.content
    question.refresh_from_db()
    assert (question.status == "closed") == closed
    if status == 200:
        body = response.json()
        assert body["decided"] == closed and body["needed"] == 3


def test_three_reopen_votes_reopen(question):
    question_close(actor=moderator_create(), question=question, reason="off_topic")
    for _ in range(2):
        assert not question_reopen(actor=closer(), question=question).decided
    assert question_reopen(actor=closer(), question=question).decided
    question.refresh_from_db()
    assert question.status == "open" and question.close_reason == "" and not question.duplicate_of
    response = client_for(closer()).post(f"/api/v1/questions/{question.pk}/reopen/")
    assert "没有被关闭" in error_of(response, 400)["message"]


def test_closed_questions_take_no_answers(question):
    question_close(actor=moderator_create(), question=question, reason="off_topic")
    response = client_for(member()).post(
        f"/api/v1/questions/{question.pk}/answers/", {"body": "回答"}
    )
    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_five_close_votes_at_once_close_once():
    question = question_make()
    voters = [closer() for _ in range(5)]
    outcomes = run_at_once(
        [lambda v=v: question_close(actor=v, question=question, reason="off_topic") for v in voters]
    )
    decided = [o for o in outcomes if not isinstance(o, BaseException) and o.decided]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(decided) == 1
    assert all(isinstance(e, ValidationError) for e in refused) and len(refused) == 2
    assert ModerationAction.objects.filter(action="question_close").count() == 1
    assert CloseVote.objects.count() == 3


# --- Merging -----------------------------------------------------------------------------------


def test_merge_moves_answers_with_their_history_and_closes_the_duplicate(question):
    original = question_make(title="KV Cache 是怎么工作的?")
    answer_make(question=original)
    moved = answer_make(question=question)
    post_edit(actor=moved.author, post=moved, base_revision=1, body=moved.body + "\n\n补充。")
    moderator = moderator_create()
    question_merge(actor=moderator, question=question, into=original, reason="同一问题")
    moved.refresh_from_db()
    question.refresh_from_db()
    original.refresh_from_db()
    assert moved.question_id == original.pk and moved.revisions.count() == 2
    assert question.status == "closed" and question.duplicate_of == original
    assert (question.answer_count, original.answer_count) == (0, 2)
    assert ModerationAction.objects.get(action="merged_into").details["answers"] == [moved.pk]
    assert ModerationAction.objects.get(action="merged_from").question == original
    assert Question.objects.count() == 2  # nothing removed


def test_only_moderators_merge(question):
    original = question_make()
    answer_make(question=question)
    for actor in (member(), closer(), question.author):
        response = client_for(actor).post(
            f"/api/v1/questions/{question.pk}/merge/", {"into": original.pk}
        )
        assert response.status_code == 403
    response = client_for(moderator_create()).post(
        f"/api/v1/questions/{question.pk}/merge/", {"into": original.pk}
    )
    assert response.status_code == 200 and response.json()["duplicate_of"] == original.pk


@pytest.mark.parametrize(("into", "field"), [("self", "into"), (999999, "into)")])
def test_bad_merges_store_nothing(question, into, field):
    answer = answer_make(question=question)
    target = question.pk if into == "self" else into
    response = client_for(moderator_create()).post(
        f"/api/v1/questions/{question.pk}/merge/", {"into": target}
    )
    assert "into" in error_of(response, 400)["fields"]
    answer.refresh_from_db()
    assert answer.question_id == question.pk


# --- Locks and protection ---------------------------------------------------------------------


def test_a_locked_post_takes_no_edits_votes_or_comments_from_members(question):
    answer = answer_make(question=question)
    moderator = moderator_create()
    post_lock(actor=moderator, post=answer, reason="编辑战")
    answer.refresh_from_db()
    assert answer.locked_until == LOCKED_INDEFINITELY
    with pytest.raises(PermissionDenied):
        post_edit(actor=answer.author, post=answer, base_revision=1, body="改")
    with pytest.raises(PermissionDenied):
        vote_cast(actor=member(15), post=answer, value=1)
    with pytest.raises(PermissionDenied):
        comment_create(actor=member(), post=answer, body="评论")
    # Moderators still edit.
    post_edit(actor=moderator, post=answer, base_revision=1, body=answer.body + "\n\n注。")
    log = ModerationAction.objects.get(action="post_lock")
    assert log.reason == "编辑战" and log.answer == answer and log.question == question


def test_a_locked_question_takes_no_answers_and_the_lock_can_expire(question):
    post_lock(actor=moderator_create(), post=question, reason="争议", days=1)
    with pytest.raises(PermissionDenied):
        answer_make(question=question)
    Question.objects.filter(pk=question.pk).update(locked_until=timezone.now() - timedelta(1))
    question.refresh_from_db()
    answer_make(question=question)  # the lock expired


@pytest.mark.parametrize(
    ("role", "status"), [("anonymous", 401), ("user", 403), ("author", 403), ("moderator", 200)]
)
@pytest.mark.parametrize("kind", ["question", "answer"])
def test_lock_and_unlock_permission_matrix(question, kind, role, status):
    post = (
        question if kind == "question" else answer_make(question=question, author=question.author)
    )
    actor = {"anonymous": None, "user": closer(), "author": question.author,
             "moderator": moderator_create()}[role]  # fmt: skip
    client = client_for(actor)
    response = client.post(f"/api/v1/{kind}s/{post.pk}/lock/", {"reason": "冷静一下", "days": 2})
    assert response.status_code == status, response.content
    post.refresh_from_db()
    assert (post.locked_until is not None) == (status == 200)
    if status == 200:
        assert response.json()["is_locked"] is True
        response = client.post(f"/api/v1/{kind}s/{post.pk}/unlock/", {})
        assert response.status_code == 200 and response.json()["is_locked"] is False


@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "reason"), ({"reason": " "}, "reason"), ({"reason": "x", "days": 0}, "days"),
     ({"reason": "x", "days": 366}, "days"), ({"reason": "x", "days": "a"}, "days")],
)  # fmt: skip
def test_bad_locks_store_nothing(question, payload, field):
    response = client_for(moderator_create()).post(
        f"/api/v1/questions/{question.pk}/lock/", payload, format="json"
    )
    assert field in error_of(response, 400)["fields"]
    question.refresh_from_db()
    assert question.locked_until is None and not ModerationAction.objects.exists()


def test_a_protected_question_takes_answers_only_from_established_members(question):
    response = client_for(moderator_create()).post(f"/api/v1/questions/{question.pk}/protect/")
    assert response.status_code == 200 and response.json()["protected"] is True
    newcomer = member()
    response = client_for(newcomer).post(
        f"/api/v1/questions/{question.pk}/answers/", {"body": "回答"}
    )
    assert response.status_code == 403
    established = member(rule("PROTECTED_ANSWER_REPUTATION"))
    response = client_for(established).post(
        f"/api/v1/questions/{question.pk}/answers/", {"body": "回答"}
    )
    assert response.status_code == 201
    assert client_for(member()).post(f"/api/v1/questions/{question.pk}/unprotect/").status_code == (
        403
    )


# --- Deleting and undeleting --------------------------------------------------------------------


def test_deleting_an_answer_hides_it_recounts_and_reverses_its_reputation(question):
    answer = answer_make(question=question)
    vote_cast(actor=member(15), post=answer, value=1)
    answer.author.refresh_from_db()
    assert answer.author.reputation == 10
    post_delete(actor=moderator_create(), post=answer, reason="离题")
    answer.refresh_from_db()
    question.refresh_from_db()
    answer.author.refresh_from_db()
    assert answer.is_deleted and question.answer_count == 0 and answer.author.reputation == 1
    assert Answer.objects.filter(pk=answer.pk).exists()  # soft
    assert client_for(member()).get(f"/api/v1/answers/{answer.pk}/").status_code == 404
    assert client_for(answer.author).get(f"/api/v1/answers/{answer.pk}/").status_code == 200


def test_deleting_a_question_recounts_its_tags(question):
    tag = Tag.objects.get(name="attention")
    assert tag.question_count == 1
    post_delete(actor=moderator_create(), post=question)
    tag.refresh_from_db()
    assert tag.question_count == 0
    post_undelete(actor=moderator_create(), post=Question.objects.get(pk=question.pk))
    tag.refresh_from_db()
    assert tag.question_count == 1


def test_removing_as_spam_costs_the_author_100(question):
    post_delete(actor=moderator_create(), post=question, spam=True)
    assert ReputationEvent.objects.filter(
        user=question.author, kind="spam_removed"
    ).get().amount == (-100)


def test_undeleting_restores_the_answer_and_its_count(question):
    answer = answer_make(question=question)
    moderator = moderator_create()
    post_delete(actor=moderator, post=answer)
    post_undelete(actor=moderator, post=answer)
    answer.refresh_from_db()
    question.refresh_from_db()
    assert not answer.is_deleted and question.answer_count == 1


@pytest.mark.parametrize(
    ("role", "status"), [("anonymous", 401), ("user", 403), ("author", 200), ("moderator", 200)]
)
def test_delete_permission_matrix(question, role, status):
    answer = answer_make(question=question)
    actor = {"anonymous": None, "user": closer(), "author": answer.author,
             "moderator": moderator_create()}[role]  # fmt: skip
    response = client_for(actor).post(f"/api/v1/answers/{answer.pk}/delete/", {"reason": "重复"})
    assert response.status_code == status, response.content
    answer.refresh_from_db()
    assert answer.is_deleted == (status == 200)


def test_an_author_undeletes_only_what_they_deleted(question):
    answer = answer_make(question=question)
    post_delete(actor=answer.author, post=answer)
    post_undelete(actor=answer.author, post=answer)
    post_delete(actor=moderator_create(), post=answer, reason="质量太差")
    with pytest.raises(PermissionDenied):
        post_undelete(actor=answer.author, post=answer)
    assert client_for(answer.author).post(f"/api/v1/answers/{answer.pk}/undelete/").status_code == (
        403
    )


def test_authors_cannot_delete_questions_others_answered_nor_remove_as_spam(question):
    answer_make(question=question)
    with pytest.raises(PermissionDenied):
        post_delete(actor=question.author, post=question)
    response = client_for(question.author).post(
        f"/api/v1/questions/{question.pk}/delete/", {"spam": True}
    )
    assert response.status_code == 403
    question.refresh_from_db()
    assert question.status == "open"


def test_comments_are_deleted_and_undeleted_softly(question):
    comment = comment_create(actor=UserFactory(), post=question, body="无关广告")
    moderator = client_for(moderator_create())
    assert moderator.post(f"/api/v1/comments/{comment.pk}/delete/", {"reason": "广告"}).json()[
        "is_deleted"
    ]
    assert client_for(member()).post(f"/api/v1/comments/{comment.pk}/undelete/").status_code == 404
    assert not moderator.post(f"/api/v1/comments/{comment.pk}/undelete/").json()["is_deleted"]
    assert Comment.objects.filter(pk=comment.pk, is_deleted=False).exists()
    assert list(ModerationAction.objects.order_by("pk").values_list("action", flat=True)) == [
        "comment_delete",
        "comment_undelete",
    ]


# --- Suspensions --------------------------------------------------------------------------------


def test_a_suspended_member_cannot_write_until_it_ends(question):
    target = member()
    response = client_for(moderator_create()).post(
        f"/api/v1/users/{target.username}/suspend/", {"days": 7, "reason": "刷屏"}
    )
    assert response.status_code == 200
    target.refresh_from_db()
    assert target.suspended_until > timezone.now() + timedelta(days=6)
    response = client_for(target).post(f"/api/v1/questions/{question.pk}/answers/", {"body": "x"})
    assert response.status_code == 403
    log = ModerationAction.objects.get(action="user_suspend")
    assert log.target_user == target and not log.is_public and log.details["days"] == 7
    client_for(moderator_create()).post(f"/api/v1/users/{target.username}/unsuspend/", {})
    target.refresh_from_db()
    assert target.suspended_until is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"days": 7}, "reason"), ({"reason": "x"}, "days"), ({"reason": "x", "days": 0}, "days"),
     ({"reason": "x", "days": 10000}, "days")],
)  # fmt: skip
def test_bad_suspensions_store_nothing(payload, field):
    target = member()
    response = client_for(moderator_create()).post(
        f"/api/v1/users/{target.username}/suspend/", payload, format="json"
    )
    assert field in error_of(response, 400)["fields"]
    target.refresh_from_db()
    assert target.suspended_until is None


def test_members_cannot_suspend_and_moderators_cannot_be_suspended():
    target = member()
    assert (
        client_for(closer())
        .post(f"/api/v1/users/{target.username}/suspend/", {"days": 1, "reason": "x"})
        .status_code
        == 403
    )
    with pytest.raises(PermissionDenied):
        user_suspend(actor=moderator_create(), user=moderator_create(), days=1, reason="x")


# --- The log and the timeline -------------------------------------------------------------------


def test_the_moderation_log_is_for_moderators_and_filters(question):
    moderator = moderator_create()
    post_lock(actor=moderator, post=question, reason="争议")
    post_delete(actor=moderator, post=question, reason="重复")
    assert client_for(None).get("/api/v1/moderation/log/").status_code == 401
    assert client_for(closer()).get("/api/v1/moderation/log/").status_code == 403
    client = client_for(moderator)
    rows = client.get("/api/v1/moderation/log/").json()["results"]
    assert [r["action"] for r in rows] == ["post_delete", "post_lock"]
    assert rows[0]["actor"] == moderator.username and rows[0]["reason"] == "重复"
    assert rows[0]["question_id"] == question.pk and rows[0]["target_user"] == (
        question.author.username
    )
    filtered = client.get("/api/v1/moderation/log/?action=post_lock").json()["results"]
    assert [r["action"] for r in filtered] == ["post_lock"]


def test_moderation_log_query_count_does_not_grow(django_assert_max_num_queries):
    moderator = moderator_create()
    for _ in range(8):
        post_lock(actor=moderator, post=answer_make(question=question_make()), reason="x")
    client = client_for(moderator)
    with django_assert_max_num_queries(3):
        response = client.get("/api/v1/moderation/log/")
    assert len(response.json()["results"]) == 8


def test_the_timeline_shows_only_the_public_part(question):
    moderator = moderator_create()
    answer = answer_make(question=question)
    post_lock(actor=moderator, post=answer, reason="冷静")
    question_close(actor=closer(), question=question, reason="off_topic")  # a vote: private
    question_close(actor=moderator, question=question, reason="off_topic")
    rows = client_for(None).get(f"/api/v1/questions/{question.pk}/timeline/").json()["results"]
    assert [r["action"] for r in rows] == ["post_lock", "question_close"]
    assert rows[0]["answer_id"] == answer.pk and rows[0]["action_display"] == "已锁定"


def test_timeline_query_count(question, django_assert_max_num_queries):
    moderator = moderator_create()
    for _ in range(5):
        post_lock(actor=moderator, post=answer_make(question=question), reason="x")
    client = client_for(None)
    with django_assert_max_num_queries(3):  # question, tags, timeline
        response = client.get(f"/api/v1/questions/{question.pk}/timeline/")
    assert len(response.json()["results"]) == 5


# --- New members' write limits ------------------------------------------------------------------

QUESTION = {"title": "什么是分组查询注意力?", "body": "请解释 GQA。", "tags": ["attention"]}


def test_a_new_member_asks_one_question_per_interval_and_is_told_when_to_retry():
    newcomer = member()
    client = client_for(newcomer)
    assert client.post("/api/v1/questions/", QUESTION, format="json").status_code == 201
    response = client.post(
        "/api/v1/questions/", {**QUESTION, "title": "第二个问题:什么是 MQA?"}, format="json"
    )
    error = error_of(response, 429)
    assert error["code"] == "rate_limited" and "之后再试" in error["message"]
    retry = int(response["Retry-After"])
    assert rule("NEW_MEMBER_QUESTION_INTERVAL_SECONDS") - 5 <= retry <= 600
    assert Question.objects.filter(author=newcomer).count() == 1
    # Once the interval has passed, the next question goes through.
    Question.objects.filter(author=newcomer).update(created_at=timezone.now() - timedelta(hours=1))
    response = client.post(
        "/api/v1/questions/", {**QUESTION, "title": "第二个问题:什么是 MQA?"}, format="json"
    )
    assert response.status_code == 201


def test_established_members_and_moderators_are_not_limited():
    for who in (member(rule("NEW_MEMBER_REPUTATION")), moderator_create()):
        client = client_for(who)
        for n in range(2):
            response = client.post(
                "/api/v1/questions/", {**QUESTION, "title": f"问题 {n}:什么是 RoPE?"}, format="json"
            )
            assert response.status_code == 201


def test_a_new_member_posts_a_limited_number_of_answers_a_day():
    newcomer = member()
    client = client_for(newcomer)
    limit = rule("NEW_MEMBER_ANSWERS_PER_DAY")
    questions = [question_make() for _ in range(limit + 1)]
    for question in questions[:limit]:
        response = client.post(f"/api/v1/questions/{question.pk}/answers/", {"body": "回答。"})
        assert response.status_code == 201
    response = client.post(f"/api/v1/questions/{questions[-1].pk}/answers/", {"body": "回答。"})
    assert error_of(response, 429)["retry_at"]
    assert Answer.objects.filter(author=newcomer).count() == limit


@pytest.mark.django_db(transaction=True)
def test_two_questions_at_once_from_a_new_member_store_one():
    newcomer = member()
    from kb.services.questions import question_create

    outcomes = run_at_once(
        [
            lambda n=n: question_create(
                actor=newcomer, title=f"同时提问 {n}:什么是 RoPE?", body="正文",
                tags=["attention"], rate_limited=True,
            )
            for n in range(2)
        ]
    )  # fmt: skip
    assert sum(isinstance(o, Question) for o in outcomes) == 1
    assert Question.objects.filter(author=newcomer).count() == 1


# --- Rules the mutation run found unpinned (docs/mutation.md) -----------------------------------


def test_a_reason_is_trimmed_required_where_needed_and_at_most_500_characters(question):
    moderator = moderator_create()
    unlocked, bad_text, too_long = (answer_make(question=question) for _ in range(3))
    post_lock(actor=moderator, post=question, reason="  编辑\r\n 战 ")
    assert ModerationAction.objects.get(action="post_lock").reason == "编辑 战"
    with pytest.raises(ValidationError) as error:
        post_lock(actor=moderator, post=unlocked, reason=" \n ")
    assert error.value.message_dict == {"reason": ["Say why."]}
    with pytest.raises(ValidationError) as error:
        post_delete(actor=moderator, post=bad_text, reason="坏\x00字")
    assert list(error.value.message_dict) == ["reason"]
    with pytest.raises(ValidationError) as error:
        post_delete(actor=moderator, post=too_long, reason="长" * 501)
    assert error.value.message_dict == {"reason": ["At most 500 characters."]}
    post_delete(actor=moderator, post=too_long, reason="长" * 500)
    post_undelete(actor=moderator, post=too_long, reason=None)  # no reason: an empty one
    assert ModerationAction.objects.get(action="post_undelete").reason == ""


def test_a_lock_lasts_the_days_given_from_1_to_the_maximum_or_until_unlocked(question):
    from kb.services.moderation import post_unlock

    moderator = moderator_create()
    maximum = rule("LOCK_MAX_DAYS")
    for days in (0, maximum + 1, True, "3", 2.0):
        with pytest.raises(ValidationError) as error:
            post_lock(actor=moderator, post=question, reason="争议", days=days)
        assert error.value.message_dict == {
            "days": [f"A whole number of days from 1 to {maximum}."]
        }
    for days in (1, maximum):
        before = timezone.now()
        post_lock(actor=moderator, post=question, reason="争议", days=days)
        question.refresh_from_db()
        assert before + timedelta(days=days) <= question.locked_until
        assert question.locked_until <= timezone.now() + timedelta(days=days)
        log = ModerationAction.objects.filter(action="post_lock").latest("pk")
        assert log.details == {"until": question.locked_until.isoformat()}
        post_unlock(actor=moderator, post=question)
    post_lock(actor=moderator, post=question, reason="争议", days="")
    question.refresh_from_db()
    assert question.locked_until == LOCKED_INDEFINITELY
    assert ModerationAction.objects.filter(action="post_lock").latest("pk").details == {
        "until": None
    }


def test_a_deleted_post_cannot_be_locked_and_an_unlocked_one_cannot_be_unlocked(question):
    from kb.services.moderation import post_unlock

    moderator = moderator_create()
    with pytest.raises(ValidationError) as error:
        post_unlock(actor=moderator, post=question)
    assert error.value.message_dict == {"non_field_errors": ["This post is not locked."]}
    Question.objects.filter(pk=question.pk).update(locked_until=timezone.now() - timedelta(1))
    with pytest.raises(ValidationError):  # an expired lock is no lock
        post_unlock(actor=moderator, post=question)
    answer = answer_make(question=question)
    post_delete(actor=moderator, post=answer)
    with pytest.raises(ValidationError) as error:
        post_lock(actor=moderator, post=answer, reason="争议")
    assert error.value.message_dict == {"non_field_errors": ["This post is deleted."]}
    answer.refresh_from_db()
    assert answer.locked_until is None


@pytest.mark.parametrize(("close_reason", "status"), [("", "open"), ("off_topic", "closed")])
def test_unlocking_a_question_in_the_locked_state_reopens_it_or_leaves_it_closed(
    question, close_reason, status
):
    from kb.services.moderation import post_unlock

    Question.objects.filter(pk=question.pk).update(
        status=Question.Status.LOCKED, close_reason=close_reason
    )
    post_unlock(actor=moderator_create(), post=question)
    question.refresh_from_db()
    assert (question.status, question.locked_until) == (status, None)


def test_protecting_twice_or_unprotecting_an_open_question_is_refused(question):
    from kb.services.moderation import question_protect

    moderator = moderator_create()
    with pytest.raises(ValidationError) as error:
        question_protect(actor=moderator, question=question, protected=False)
    assert error.value.message_dict == {"non_field_errors": ["This question is not protected."]}
    question_protect(actor=moderator, question=question)
    with pytest.raises(ValidationError) as error:
        question_protect(actor=moderator, question=question)
    assert error.value.message_dict == {"non_field_errors": ["This question is already protected."]}
    question_protect(actor=moderator, question=question, protected=False)
    question.refresh_from_db()
    assert question.protected is False
    assert list(ModerationAction.objects.order_by("pk").values_list("action", flat=True)) == [
        "question_protect",
        "question_unprotect",
    ]


def test_deleting_a_post_that_flags_hid_clears_the_hiding(question):
    answer = answer_make(question=question)
    for post in (question, answer):
        type(post).objects.filter(pk=post.pk).update(hidden_by_flags=True)
    moderator = moderator_create()
    post_delete(actor=moderator, post=answer)
    post_delete(actor=moderator, post=question)
    answer.refresh_from_db()
    question.refresh_from_db()
    assert (answer.is_deleted, answer.hidden_by_flags) == (True, False)
    assert (question.status, question.hidden_by_flags) == ("deleted", False)


def test_only_moderators_remove_as_spam_even_an_authors_own_post(question):
    answer = answer_make(question=question)
    with pytest.raises(PermissionDenied) as refused:
        post_delete(actor=answer.author, post=answer, spam=True)
    assert str(refused.value) == "Only moderators can remove a post as spam."
    answer.refresh_from_db()
    assert not answer.is_deleted
    post_delete(actor=answer.author, post=answer)  # without spam: the author may
    assert not ReputationEvent.objects.filter(kind="spam_removed").exists()


def test_deleting_and_undeleting_an_answer_moves_its_words_in_and_out_of_the_question(question):
    answer = answer_make(question=question, body="独特词 Mamba")
    assert "mamba" in question_vector(question)
    moderator = moderator_create()
    post_delete(actor=moderator, post=answer)
    assert "mamba" not in question_vector(question)
    post_undelete(actor=moderator, post=answer)
    assert "mamba" in question_vector(question)


def test_undeleting_a_question_reopens_it_or_leaves_it_closed(question):
    moderator = moderator_create()
    post_delete(actor=moderator, post=question)
    post_undelete(actor=moderator, post=Question.objects.get(pk=question.pk))
    assert Question.objects.get(pk=question.pk).status == "open"
    question_close(actor=moderator, question=question, reason="off_topic")
    post_delete(actor=moderator, post=Question.objects.get(pk=question.pk))
    post_undelete(actor=moderator, post=Question.objects.get(pk=question.pk))
    assert Question.objects.get(pk=question.pk).status == "closed"


def test_a_comment_that_is_not_deleted_cannot_be_undeleted_and_undeleting_clears_hiding(
    question,
):
    from kb.services.moderation import comment_undelete

    comment = comment_create(actor=UserFactory(), post=question, body="一条评论")
    moderator = moderator_create()
    with pytest.raises(ValidationError) as error:
        comment_undelete(actor=moderator, comment=comment)
    assert error.value.message_dict == {"non_field_errors": ["This comment is not deleted."]}
    earlier = timezone.now() - timedelta(hours=1)
    Comment.objects.filter(pk=comment.pk).update(
        is_deleted=True, hidden_by_flags=True, updated_at=earlier
    )
    comment_undelete(actor=moderator, comment=comment, reason="误删")
    comment.refresh_from_db()
    assert (comment.is_deleted, comment.hidden_by_flags) == (False, False)
    assert comment.updated_at > earlier
    log = ModerationAction.objects.get(action="comment_undelete")
    assert (log.reason, log.actor) == ("误删", moderator)


def test_deleted_questions_and_duplicates_cannot_take_part_in_a_merge(question):
    moderator = moderator_create()
    with pytest.raises(ValidationError) as error:
        question_merge(actor=moderator, question=question, into=question)
    assert error.value.message_dict == {"into": ["A question cannot be merged into itself."]}
    original, deleted = question_make(), question_make()
    post_delete(actor=moderator, post=deleted)
    for source, target in ((question, deleted), (deleted, question)):
        with pytest.raises(ValidationError) as error:
            question_merge(actor=moderator, question=source, into=target)
        assert error.value.message_dict == {"into": ["Deleted questions cannot be merged."]}
    question_merge(actor=moderator, question=original, into=question)
    with pytest.raises(ValidationError) as error:
        question_merge(actor=moderator, question=question_make(), into=original)
    assert error.value.message_dict == {
        "into": ["That question is itself a duplicate; merge into the original."]
    }


def test_a_merge_ends_the_duplicates_close_votes_and_accept_and_moves_its_words(question):
    original = question_make(title="KV Cache 是怎么工作的?")
    moved = answer_make(question=question, body="独特词 Mamba")
    answer_accept(actor=question.author, answer=moved)
    question_close(actor=closer(), question=question, reason="off_topic")  # one vote of three
    before = Question.objects.get(pk=original.pk).last_activity_at
    question_merge(actor=moderator_create(), question=question, into=original)
    question.refresh_from_db()
    original.refresh_from_db()
    assert question.accepted_answer_id is None and question.close_reason == "duplicate"
    assert not CloseVote.objects.filter(question=question, is_active=True).exists()
    assert original.last_activity_at > before
    assert "mamba" in question_vector(original)
    assert "mamba" not in question_vector(question)


def test_a_suspension_is_logged_privately_and_sent_to_the_member_with_its_reason():
    from notifications.models import Notification

    target = member()
    moderator = moderator_create()
    user_suspend(actor=moderator, user=target, days=3, reason="刷屏")
    target.refresh_from_db()
    log = ModerationAction.objects.get(action="user_suspend")
    assert (log.is_public, log.reason) == (False, "刷屏")
    assert log.details == {"days": 3, "until": target.suspended_until.isoformat()}
    message = Notification.objects.get(recipient=target)
    assert (message.kind, message.text, message.actor) == ("moderator_message", "刷屏", moderator)
    with pytest.raises(ValidationError) as error:
        user_suspend(actor=moderator, user=member(), days=None, reason="刷屏")
    assert list(error.value.message_dict) == ["days"]


def test_only_a_suspension_still_running_can_be_lifted(monkeypatch):
    from kb.services.moderation import user_unsuspend

    moderator = moderator_create()
    instant = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: instant)
    for until in (None, instant - timedelta(days=1), instant):
        target = member(suspended_until=until)
        with pytest.raises(ValidationError) as error:
            user_unsuspend(actor=moderator, user=target)
        assert error.value.message_dict == {"non_field_errors": ["This member is not suspended."]}
    target = member(suspended_until=instant + timedelta(microseconds=1))
    user_unsuspend(actor=moderator, user=target, reason="申诉成功")
    target.refresh_from_db()
    assert target.suspended_until is None
    log = ModerationAction.objects.get(action="user_unsuspend")
    assert (log.is_public, log.reason, log.target_user) == (False, "申诉成功", target)


def test_unlocking_undeleting_comments_and_lifting_suspensions_are_for_moderators(question):
    from kb.permissions import Refused
    from kb.services.moderation import comment_undelete, post_unlock, user_unsuspend

    answer = answer_make(question=question)
    comment = comment_create(actor=UserFactory(), post=answer, body="评论")
    post_lock(actor=moderator_create(), post=question, reason="争议")
    Comment.objects.filter(pk=comment.pk).update(is_deleted=True)
    target = member(suspended_until=timezone.now() + timedelta(days=1))
    someone = closer()
    for attempt in (
        lambda: post_unlock(actor=someone, post=question),
        lambda: comment_undelete(actor=someone, comment=comment),
        lambda: user_unsuspend(actor=someone, user=target),
    ):
        with pytest.raises(Refused) as refused:
            attempt()
        assert refused.value.code == "not_moderator"
    with pytest.raises(ValidationError):
        user_suspend(actor=moderator_create(), user=member(), days=1, reason=" ")


def _optional_reason_services() -> dict:
    """Each: the set-up, then a call with a given reason, and the log actions it writes."""
    from kb.services.moderation import (
        comment_undelete,
        post_unlock,
        question_protect,
        user_unsuspend,
    )

    def unlock():
        answer = answer_make(question=question_make())
        post_lock(actor=moderator_create(), post=answer, reason="争议")
        return lambda m, r: post_unlock(actor=m, post=answer, reason=r)

    def protect():
        question = question_make()
        return lambda m, r: question_protect(actor=m, question=question, reason=r)

    def undelete_comment():
        comment = comment_create(actor=UserFactory(), post=question_make(), body="评论")
        Comment.objects.filter(pk=comment.pk).update(is_deleted=True)
        return lambda m, r: comment_undelete(actor=m, comment=comment, reason=r)

    def merge():
        duplicate, original = question_make(), question_make()
        return lambda m, r: question_merge(actor=m, question=duplicate, into=original, reason=r)

    def unsuspend():
        target = member(suspended_until=timezone.now() + timedelta(days=1))
        return lambda m, r: user_unsuspend(actor=m, user=target, reason=r)

    return {
        "post_unlock": (unlock, ["post_unlock"]),
        "question_protect": (protect, ["question_protect"]),
        "comment_undelete": (undelete_comment, ["comment_undelete"]),
        "question_merge": (merge, ["merged_into", "merged_from"]),
        "user_unsuspend": (unsuspend, ["user_unsuspend"]),
    }


@pytest.mark.parametrize("service", list(_optional_reason_services()))
def test_an_optional_reason_is_still_trimmed_and_at_most_500_characters(service):
    prepare, actions = _optional_reason_services()[service]
    act, moderator = prepare(), moderator_create()
    with pytest.raises(ValidationError) as error:
        act(moderator, "长" * 501)
    assert error.value.message_dict == {"reason": ["At most 500 characters."]}
    act(moderator, "  误判\r\n 已   澄清 ")
    logged = ModerationAction.objects.filter(action__in=actions).order_by("pk")
    assert list(logged.values_list("action", "reason", "actor")) == [
        (action, "误判 已 澄清", moderator.pk) for action in actions
    ]


def test_unlocking_is_logged_publicly_on_the_post(question):
    from kb.services.moderation import post_unlock

    answer = answer_make(question=question)
    moderator = moderator_create()
    post_lock(actor=moderator, post=answer, reason="争议")
    post_unlock(actor=moderator, post=answer)
    log = ModerationAction.objects.get(action="post_unlock")
    assert (log.actor, log.question, log.answer, log.target_user, log.reason, log.is_public) == (
        moderator, question, answer, answer.author, "", True
    )  # fmt: skip


def test_undeleting_gives_the_author_back_what_the_deletion_took(question):
    answer = answer_make(question=question, author=member())
    vote_cast(actor=closer(), post=answer, value=1)
    moderator = moderator_create()
    post_delete(actor=moderator, post=answer)
    answer.author.refresh_from_db()
    assert answer.author.reputation == 1
    post_undelete(actor=moderator, post=answer)
    answer.author.refresh_from_db()
    assert answer.author.reputation == rule("REPUTATION_ANSWER_UPVOTED")
    assert ReputationEvent.objects.filter(user=answer.author, kind="answer_upvoted").count() == 2


@pytest.mark.parametrize("kind", ["question", "answer"])
def test_the_undelete_api_answers_with_the_restored_posts_state(question, kind):
    post = question if kind == "question" else answer_make(question=question)
    moderator = client_for(moderator_create())
    assert moderator.post(f"/api/v1/{kind}s/{post.pk}/delete/", {"reason": "重复"}).status_code == (
        200
    )
    response = moderator.post(f"/api/v1/{kind}s/{post.pk}/undelete/", {"reason": "误删"})
    assert response.status_code == 200, response.content
    state = response.json()
    assert (state["kind"], state["id"], state["is_deleted"]) == (kind, post.pk, False)
    assert state["status"] == ("open" if kind == "question" else None)
