"""Flags: raising them, limits, hiding, the moderator's flag queue, the correction queue, the API's
permission matrix, bad input and concurrency."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from accounts.models import ReputationEvent
from kb.models import Answer, Comment, Flag, ModerationAction, Question
from kb.rules import rule
from kb.services.comments import comment_create
from kb.services.edits import post_edit
from kb.services.flags import flag_create, flag_daily_limit, flags_resolve
from kb.services.rate_limits import RateLimited
from kb.services.votes import vote_cast
from tests.factories import UserFactory, answer_make, moderator_create, question_make
from tests.kb.moderation_support import client_for, editor, error_of, member, run_at_once

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def answer():
    return answer_make(question=question_make(), author=UserFactory())


def flag_many(target, n: int, reason: str = "spam") -> list[Flag]:
    return [flag_create(actor=member(), target=target, reason=reason) for _ in range(n)]


# --- Raising flags ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"), [("anonymous", 401), ("user", 201), ("author", 403), ("moderator", 201)]
)
@pytest.mark.parametrize("kind", ["question", "answer", "comment"])
def test_flag_permission_matrix(kind, role, status):
    author = UserFactory()
    question = question_make(author=author)
    target = {
        "question": lambda: question,
        "answer": lambda: answer_make(question=question, author=author),
        "comment": lambda: comment_create(actor=author, post=question, body="可以参考原论文。"),
    }[kind]()
    actor = {"anonymous": None, "user": member(), "author": author,
             "moderator": moderator_create()}[role]  # fmt: skip
    response = client_for(actor).post(
        f"/api/v1/{kind}s/{target.pk}/flags/", {"reason": "inaccurate", "text": "公式有误"}
    )
    assert response.status_code == status, response.content
    assert Flag.objects.count() == (1 if status == 201 else 0)
    if status == 201:
        body = response.json()
        assert body["reason"] == "inaccurate" and body["status"] == "pending"
        assert body[f"{kind}_id"] == target.pk


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "reason"),
        ({"reason": "boring"}, "reason"),
        ({"reason": "moderator"}, "text"),
        ({"reason": "moderator", "text": "   "}, "text"),
        ({"reason": "spam", "text": "长" * 501}, "text"),
        ({"reason": "spam", "text": "x\u0000"}, "text"),
    ],
)
def test_bad_flags_get_field_errors_and_store_nothing(answer, payload, field):
    response = client_for(member()).post(
        f"/api/v1/answers/{answer.pk}/flags/", payload, format="json"
    )
    assert field in error_of(response, 400)["fields"]
    assert not Flag.objects.exists()


def test_needs_moderator_attention_keeps_its_text(answer):
    flag = flag_create(actor=member(), target=answer, reason="moderator", text="  抄袭自某博客  ")
    assert flag.text == "抄袭自某博客"


def test_a_member_has_one_pending_flag_per_post(answer):
    who = member()
    flag_create(actor=who, target=answer, reason="spam")
    with pytest.raises(ValidationError, match="already flagged"):
        flag_create(actor=who, target=answer, reason="rude")
    assert Flag.objects.count() == 1


def test_deleted_posts_cannot_be_flagged(answer):
    Answer.objects.filter(pk=answer.pk).update(is_deleted=True)
    answer.refresh_from_db()
    with pytest.raises(PermissionDenied):
        flag_create(actor=member(), target=answer, reason="spam")


def test_flags_are_limited_per_day_with_a_retry_time():
    who = member()
    limit = rule("FLAGS_PER_DAY")
    posts = [question_make() for _ in range(limit + 1)]
    for post in posts[:limit]:
        flag_create(actor=who, target=post, reason="outdated")
    with pytest.raises(RateLimited) as refused:
        flag_create(actor=who, target=posts[-1], reason="outdated")
    assert refused.value.retry_at > timezone.now()
    response = client_for(who).post(f"/api/v1/questions/{posts[-1].pk}/flags/", {"reason": "spam"})
    error = error_of(response, 429)
    assert error["code"] == "flag_limit_reached" and "之后再试" in error["message"]
    assert int(response["Retry-After"]) > 0 and error["retry_at"]
    assert Flag.objects.filter(user=who).count() == limit


def test_helpful_flags_raise_the_daily_limit():
    who = member()
    base = rule("FLAGS_PER_DAY")
    per = rule("HELPFUL_FLAGS_PER_EXTRA_FLAG")
    old = timezone.now() - timedelta(days=3)
    for _ in range(2 * per):
        flag = flag_create(actor=who, target=question_make(), reason="outdated")
        Flag.objects.filter(pk=flag.pk).update(status="helpful", created_at=old)
    assert flag_daily_limit(user=who) == base + 2


# --- Hiding and the flag queue ----------------------------------------------------------------


def test_four_spam_flags_hide_a_post_from_everyone_but_its_author_and_moderators(answer):
    flag_many(answer, rule("FLAGS_TO_HIDE") - 1)
    answer.refresh_from_db()
    assert not answer.hidden_by_flags
    flag_create(actor=member(), target=answer, reason="rude")
    answer.refresh_from_db()
    assert answer.hidden_by_flags
    url = f"/api/v1/answers/{answer.pk}/"
    assert client_for(None).get(url).status_code == 404
    assert client_for(member()).get(url).status_code == 404
    assert client_for(answer.author).get(url).status_code == 200
    assert client_for(moderator_create()).get(url).status_code == 200
    question_page = client_for(None).get(f"/api/v1/questions/{answer.question_id}/").json()
    assert question_page["answers"] == []
    assert ModerationAction.objects.filter(action="hidden_by_flags", answer=answer).exists()


def test_other_reasons_do_not_hide(answer):
    flag_many(answer, rule("FLAGS_TO_HIDE"), reason="inaccurate")
    answer.refresh_from_db()
    assert not answer.hidden_by_flags


def test_flag_queue_groups_flags_per_post_for_moderators_only(answer):
    flag_many(answer, 2, "spam")
    flag_create(actor=member(), target=answer, reason="inaccurate")
    question = question_make()
    flag_create(actor=member(), target=question, reason="duplicate", text="和 #1 重复")
    assert client_for(None).get("/api/v1/review/flags/").status_code == 401
    assert client_for(editor()).get("/api/v1/review/flags/").status_code == 403
    response = client_for(moderator_create()).get("/api/v1/review/flags/")
    groups = response.json()["results"]
    assert response.json()["count"] == 2
    assert [(g["target"]["kind"], g["target"]["id"]) for g in groups] == [
        ("answer", answer.pk),
        ("question", question.pk),
    ]
    assert groups[0]["reasons"] == {"spam": 2, "inaccurate": 1}
    assert len(groups[0]["flags"]) == 3 and groups[1]["flags"][0]["text"] == "和 #1 重复"


def test_flag_queue_query_count_does_not_grow(django_assert_max_num_queries):
    moderator = moderator_create()
    for _ in range(5):
        post = answer_make(question=question_make())
        flag_many(post, 2)
        comment = comment_create(actor=UserFactory(), post=post, body="广告链接")
        flag_create(actor=member(), target=comment, reason="spam")
    client = client_for(moderator)
    with django_assert_max_num_queries(4):  # moderator check, count, page of targets, flags
        response = client.get("/api/v1/review/flags/")
    assert len(response.json()["results"]) == 10


def test_helpful_spam_flags_remove_the_post_and_cost_its_author_100(answer):
    author = answer.author
    vote_cast(actor=member(15), post=answer, value=1)
    author.refresh_from_db()
    assert author.reputation == 10
    flag_many(answer, 4)
    moderator = moderator_create()
    result = flags_resolve(actor=moderator, target=answer, decision="helpful")
    assert result.removed and result.flags == 4
    answer.refresh_from_db()
    assert answer.is_deleted and not answer.hidden_by_flags
    assert set(Flag.objects.values_list("status", flat=True)) == {"helpful"}
    assert set(Flag.objects.values_list("handled_by", flat=True)) == {moderator.pk}
    kinds = list(ReputationEvent.objects.filter(user=author).values_list("kind", "amount"))
    assert ("spam_removed", -100) in kinds and ("reversal", -10) in kinds
    author.refresh_from_db()
    assert author.reputation == 1  # never below 1
    question = Question.objects.get(pk=answer.question_id)
    assert question.answer_count == 0
    assert (
        ModerationAction.objects.filter(action="post_delete", answer=answer).get().details["spam"]
    )


def test_helpful_abusive_flags_remove_without_the_spam_penalty(answer):
    flag_many(answer, 1, "rude")
    flags_resolve(actor=moderator_create(), target=answer, decision="helpful")
    answer.refresh_from_db()
    assert answer.is_deleted
    assert not ReputationEvent.objects.filter(kind="spam_removed").exists()


def test_helpful_spam_flags_on_a_comment_remove_it(answer):
    comment = comment_create(actor=UserFactory(), post=answer, body="加微信领资料")
    flag_many(comment, 4)
    comment.refresh_from_db()
    assert comment.hidden_by_flags
    flags_resolve(actor=moderator_create(), target=comment, decision="helpful")
    comment.refresh_from_db()
    assert comment.is_deleted and not comment.hidden_by_flags
    assert Comment.objects.visible_to(member()).filter(pk=comment.pk).count() == 0


def test_declined_flags_unhide_the_post(answer):
    flag_many(answer, 4)
    flags_resolve(actor=moderator_create(), target=answer, decision="declined")
    answer.refresh_from_db()
    assert not answer.hidden_by_flags and not answer.is_deleted
    assert client_for(None).get(f"/api/v1/answers/{answer.pk}/").status_code == 200


@pytest.mark.parametrize(
    ("role", "status"), [("anonymous", 401), ("user", 403), ("author", 403), ("moderator", 200)]
)
def test_flag_resolution_permission_matrix(answer, role, status):
    flag_many(answer, 1, "inaccurate")
    actor = {"anonymous": None, "user": editor(), "author": answer.author,
             "moderator": moderator_create()}[role]  # fmt: skip
    response = client_for(actor).post(
        f"/api/v1/review/flags/answer/{answer.pk}/", {"decision": "helpful"}
    )
    assert response.status_code == status, response.content
    expected = "helpful" if status == 200 else "pending"
    assert list(Flag.objects.values_list("status", flat=True)) == [expected]


@pytest.mark.parametrize(
    ("payload", "field"), [({}, "decision"), ({"decision": "maybe"}, "decision")]
)
def test_bad_flag_resolutions_store_nothing(answer, payload, field):
    flag_many(answer, 1)
    response = client_for(moderator_create()).post(
        f"/api/v1/review/flags/answer/{answer.pk}/", payload, format="json"
    )
    assert field in error_of(response, 400)["fields"]
    assert list(Flag.objects.values_list("status", flat=True)) == ["pending"]


def test_resolving_a_post_without_pending_flags_is_a_400(answer):
    response = client_for(moderator_create()).post(
        f"/api/v1/review/flags/answer/{answer.pk}/", {"decision": "declined"}
    )
    assert "没有待处理的举报" in error_of(response, 400)["message"]


def test_unknown_flag_target_kind_is_a_404(answer):
    response = client_for(moderator_create()).post(
        f"/api/v1/review/flags/vote/{answer.pk}/", {"decision": "declined"}
    )
    assert response.status_code == 404


# --- The correction queue -----------------------------------------------------------------------


def test_inaccurate_and_outdated_flags_fill_the_correction_queue_for_editors(answer):
    flag_create(actor=member(), target=answer, reason="outdated", text="已有新版本")
    flag_create(actor=member(), target=answer.question, reason="inaccurate")
    flag_create(actor=member(), target=question_make(), reason="spam")
    assert client_for(member()).get("/api/v1/review/corrections/").status_code == 403
    assert client_for(None).get("/api/v1/review/corrections/").status_code == 401
    groups = client_for(editor()).get("/api/v1/review/corrections/").json()["results"]
    assert sorted((g["target"]["kind"], g["target"]["id"]) for g in groups) == [
        ("answer", answer.pk),
        ("question", answer.question_id),
    ]
    assert all(set(g["reasons"]) <= {"inaccurate", "outdated"} for g in groups)


def test_an_approved_edit_takes_the_post_out_of_the_correction_queue(answer):
    flag = flag_create(actor=member(), target=answer, reason="outdated")
    spam = flag_create(actor=member(), target=answer, reason="spam")
    fixer = editor()
    post_edit(actor=fixer, post=answer, base_revision=1, body=answer.body + "\n\n(2025 年更新)")
    flag.refresh_from_db()
    spam.refresh_from_db()
    assert flag.status == "helpful" and flag.handled_by == fixer
    assert spam.status == "pending"  # only the correction flags
    assert client_for(editor()).get("/api/v1/review/corrections/").json()["results"] == []


# --- Concurrency ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_six_members_flagging_spam_at_once_hide_the_post_once():
    answer = answer_make(question=question_make())
    flaggers = [member() for _ in range(6)]
    outcomes = run_at_once(
        [lambda u=u: flag_create(actor=u, target=answer, reason="spam") for u in flaggers]
    )
    # Once hidden, the post is gone for those who have not flagged yet: their flags are refused.
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert all(getattr(o, "code", None) == "not_found" for o in refused)
    answer.refresh_from_db()
    assert answer.hidden_by_flags
    assert Flag.objects.filter(answer=answer).count() == 6 - len(refused)
    assert ModerationAction.objects.filter(action="hidden_by_flags").count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_member_flagging_the_same_post_twice_at_once_stores_one_flag():
    answer = answer_make(question=question_make())
    who = member()
    outcomes = run_at_once(
        [lambda r=r: flag_create(actor=who, target=answer, reason=r) for r in ("spam", "rude")]
    )
    assert sum(isinstance(o, Flag) for o in outcomes) == 1
    assert sum(isinstance(o, ValidationError) for o in outcomes) == 1
    assert Flag.objects.filter(answer=answer).count() == 1
