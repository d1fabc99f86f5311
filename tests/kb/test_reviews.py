"""Suggested edits and their review: the queue, votes, improve, supersede, reputation, the API's
permission matrix, bad input and concurrent reviews."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from accounts.models import ReputationEvent
from kb.models import ModerationAction, ReviewVote, Revision
from kb.services.edits import post_edit
from kb.services.reviews import edit_review
from tests.factories import UserFactory, answer_make, moderator_create, question_make
from tests.kb.moderation_support import (
    client_for,
    editor,
    error_of,
    member,
    reviewer,
    role_user,
    run_at_once,
    suggest,
)

pytestmark = pytest.mark.django_db

BODY = "第一段:KV Cache 缓存每层的键和值。\n\n第二段:解码时只算新 token。\n\n第三段:结论。"
FIXED = BODY.replace("结论。", "结论:显存换速度。")


@pytest.fixture(autouse=True)
def english():
    """Service messages are matched in English; the pages' Chinese is tested elsewhere."""
    with translation.override("en"):
        yield


@pytest.fixture
def answer():
    return answer_make(question=question_make(), author=UserFactory(), body=BODY)


def edit_approved_events(user) -> list[int]:
    return list(
        ReputationEvent.objects.filter(
            user=user, kind=ReputationEvent.Kind.EDIT_APPROVED
        ).values_list("amount", flat=True)
    )


# --- The suggestion itself -------------------------------------------------------------------


def test_a_member_without_the_edit_privilege_makes_a_pending_revision_shown_as_pending(
    answer, api_client
):
    suggester = member()
    client = client_for(suggester)
    response = client.patch(
        f"/api/v1/answers/{answer.pk}/", {"body": FIXED, "base_revision": 1}, format="json"
    )
    assert response.json()["status"] == "pending"
    answer.refresh_from_db()
    assert answer.body == BODY  # the post is unchanged until approved
    revisions = api_client.get(f"/api/v1/answers/{answer.pk}/revisions/").json()["results"]
    assert [(r["number"], r["status"]) for r in revisions] == [(1, "approved"), (2, "pending")]
    mine = client.get("/api/v1/review/edits/mine/").json()["results"]
    assert [(m["number"], m["status"]) for m in mine] == [(2, "pending")]


def test_a_member_with_the_edit_privilege_saves_directly(answer):
    result = post_edit(actor=editor(), post=answer, base_revision=1, body=FIXED)
    assert not result.pending
    answer.refresh_from_db()
    assert answer.body == FIXED


def test_only_one_suggestion_waits_per_post(answer):
    suggest(answer, by=member())
    with pytest.raises(ValidationError, match="already has a suggested edit"):
        suggest(answer, by=member(), body=FIXED)
    assert Revision.objects.filter(answer=answer, status="pending").count() == 1


# --- Deciding ---------------------------------------------------------------------------------


def test_two_approvals_decide_and_the_suggester_earns_two(answer):
    suggester = member()
    suggestion = suggest(answer, by=suggester, body=FIXED)
    first = edit_review(actor=reviewer(), revision=suggestion, decision="approve")
    assert first.outcome == "pending" and first.approvals == 1
    answer.refresh_from_db()
    assert answer.body == BODY
    second_reviewer = reviewer()
    second = edit_review(actor=second_reviewer, revision=suggestion, decision="approve")
    assert second.outcome == "approved"
    suggestion.refresh_from_db()
    answer.refresh_from_db()
    assert suggestion.status == "approved" and suggestion.reviewer == second_reviewer
    assert answer.body == FIXED and answer.revision_count == 2
    assert edit_approved_events(suggester) == [2]
    suggester.refresh_from_db()
    assert suggester.reputation == 2  # max(1, +2)
    assert ModerationAction.objects.filter(action="edit_approve", answer=answer).count() == 1


def test_two_rejections_decide_with_their_reasons(answer):
    suggestion = suggest(answer, by=member(), body=FIXED)
    edit_review(actor=reviewer(), revision=suggestion, decision="reject", reason="改错了")
    result = edit_review(actor=reviewer(), revision=suggestion, decision="reject", reason="无关")
    assert result.outcome == "rejected"
    suggestion.refresh_from_db()
    assert suggestion.status == "rejected" and suggestion.review_note == "改错了; 无关"
    answer.refresh_from_db()
    assert answer.body == BODY


def test_one_approval_and_one_rejection_leave_it_pending(answer):
    suggestion = suggest(answer, by=member(), body=FIXED)
    edit_review(actor=reviewer(), revision=suggestion, decision="approve")
    result = edit_review(actor=reviewer(), revision=suggestion, decision="reject", reason="不对")
    assert result.outcome == "pending" and (result.approvals, result.rejections) == (1, 1)


@pytest.mark.parametrize("who", ["author", "moderator"])
def test_the_posts_author_and_moderators_decide_alone(answer, who):
    decider = answer.author if who == "author" else moderator_create()
    suggestion = suggest(answer, by=member(), body=FIXED)
    assert edit_review(actor=decider, revision=suggestion, decision="approve").outcome == "approved"
    answer.refresh_from_db()
    assert answer.body == FIXED


def test_improve_approves_the_suggestion_and_saves_the_reviewers_edit_on_top(answer):
    suggester, improver = member(), reviewer()
    suggestion = suggest(answer, by=suggester, body=FIXED)
    better = FIXED.replace("显存换速度", "以显存换取解码速度")
    result = edit_review(
        actor=improver, revision=suggestion, decision="improve", body=better, summary="措辞"
    )
    assert result.outcome == "approved" and result.improvement.number == 3
    suggestion.refresh_from_db()
    answer.refresh_from_db()
    assert suggestion.status == "approved" and suggestion.reviewer == improver
    assert answer.body == better and answer.revision_count == 3
    assert result.improvement.base_revision_id == suggestion.pk
    assert result.improvement.author == improver and result.improvement.status == "approved"
    assert edit_approved_events(suggester) == [2]


def test_improve_without_a_change_is_refused_and_stores_nothing(answer):
    suggestion = suggest(answer, by=member(), body=FIXED)
    with pytest.raises(ValidationError, match="Nothing changed"):
        edit_review(actor=reviewer(), revision=suggestion, decision="improve", body=FIXED)
    assert not ReviewVote.objects.exists() and answer.revisions.count() == 2


def test_reviewing_ones_own_suggestion_is_refused():
    suggester = reviewer()
    answer = answer_make(question=question_make(), body=BODY)
    # A reviewer (500) still suggests: editing directly needs more.
    suggestion = suggest(answer, by=suggester, body=FIXED)
    with pytest.raises(PermissionDenied, match="your own"):
        edit_review(actor=suggester, revision=suggestion, decision="approve")
    assert not ReviewVote.objects.exists()


def test_a_reviewer_votes_once(answer):
    suggestion = suggest(answer, by=member(), body=FIXED)
    who = reviewer()
    edit_review(actor=who, revision=suggestion, decision="approve")
    with pytest.raises(ValidationError, match="already reviewed"):
        edit_review(actor=who, revision=suggestion, decision="reject", reason="改主意")
    assert ReviewVote.objects.filter(revision=suggestion).count() == 1


def test_a_decided_suggestion_takes_no_more_votes(answer):
    suggestion = suggest(answer, by=member(), body=FIXED)
    edit_review(actor=answer.author, revision=suggestion, decision="reject", reason="不需要")
    with pytest.raises(ValidationError, match="no longer pending"):
        edit_review(actor=reviewer(), revision=suggestion, decision="approve")


def test_a_direct_edit_supersedes_the_waiting_suggestion_and_tells_its_author(answer):
    suggester = member()
    suggestion = suggest(answer, by=suggester, body=FIXED)
    result = post_edit(actor=answer.author, post=answer, base_revision=1, body=BODY + "\n\n附注。")
    assert result.revision.number == 3 and result.revision.status == "approved"
    suggestion.refresh_from_db()
    assert suggestion.status == "superseded" and "3" in suggestion.review_note
    notice = ModerationAction.objects.get(action="edit_superseded")
    assert notice.target_user == suggester and not notice.is_public
    assert notice.details == {"revision": 2, "superseded_by": 3}
    mine = client_for(suggester).get("/api/v1/review/edits/mine/").json()["results"]
    assert mine[0]["status"] == "superseded"
    # The post takes a new suggestion now.
    answer.refresh_from_db()
    suggest(answer, by=member(), body=BODY + "\n\n附注。\n\n再补充。")


def test_a_rollback_also_supersedes_the_waiting_suggestion(answer):
    post_edit(actor=answer.author, post=answer, base_revision=1, body=FIXED)
    answer.refresh_from_db()
    suggestion = suggest(answer, by=member(), body=FIXED + "\n\n建议。")
    from kb.services.edits import revision_rollback

    revision_rollback(actor=answer.author, post=answer, to=1)
    suggestion.refresh_from_db()
    assert suggestion.status == "superseded"


# --- The API: queue, matrix, bad input, query counts --------------------------------------------


@pytest.mark.parametrize(
    ("role", "status", "outcome"),
    [
        ("anonymous", 401, None),
        ("user", 403, None),
        ("reviewer", 200, "pending"),
        ("author", 200, "approved"),
        ("moderator", 200, "approved"),
    ],
)
def test_review_permission_matrix(answer, role, status, outcome):
    suggestion = suggest(answer, by=member(), body=FIXED)
    client = client_for(role_user(role, author=answer.author))
    response = client.post(f"/api/v1/review/edits/{suggestion.pk}/", {"decision": "approve"})
    assert response.status_code == status, response.content
    if outcome:
        assert response.json()["outcome"] == outcome
    assert ReviewVote.objects.count() == (1 if status == 200 else 0)
    answer.refresh_from_db()
    assert (answer.body == FIXED) == (outcome == "approved")


def test_the_suggester_cannot_review_through_the_api(answer):
    suggester = member()
    suggestion = suggest(answer, by=suggester, body=FIXED)
    response = client_for(suggester).post(
        f"/api/v1/review/edits/{suggestion.pk}/", {"decision": "approve"}
    )
    assert error_of(response, 403)["code"] == "own_edit"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "decision"),
        ({"decision": "maybe"}, "decision"),
        ({"decision": "reject"}, "reason"),
        ({"decision": "reject", "reason": "   "}, "reason"),
        ({"decision": "reject", "reason": "长" * 301}, "reason"),
        ({"decision": "improve", "body": ""}, "body"),
        ({"decision": "improve", "body": "<script>alert(1)</script>"}, "body"),
        ({"decision": "improve", "body": FIXED}, "body"),
        ({"decision": "improve", "body": FIXED + "。", "summary": "长" * 301}, "summary"),
        ({"decision": "approve", "reason": "x\u0000"}, "reason"),
    ],
)
def test_bad_reviews_get_field_errors_and_store_nothing(answer, payload, field):
    suggestion = suggest(answer, by=member(), body=FIXED)
    response = client_for(reviewer()).post(
        f"/api/v1/review/edits/{suggestion.pk}/", payload, format="json"
    )
    error = error_of(response, 400)
    assert field in error["fields"], error
    assert not ReviewVote.objects.exists() and answer.revisions.count() == 2
    suggestion.refresh_from_db()
    assert suggestion.status == "pending"


def test_queue_lists_pending_edits_with_their_diff_for_reviewers_only(answer):
    suggestion = suggest(answer, by=member(), body=FIXED, summary="补全结论")
    response = client_for(reviewer()).get("/api/v1/review/edits/")
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == suggestion.pk and row["status"] == "pending"
    assert row["post"]["kind"] == "answer" and row["post"]["id"] == answer.pk
    assert row["summary"] == "补全结论" and row["base_revision"] == 1
    assert "显存换速度" in row["diff"]["body"]["inline_html"]
    # A member without the privilege sees only suggestions on their own posts: none here.
    assert client_for(member()).get("/api/v1/review/edits/").json()["results"] == []
    # The post's author sees the one on their post.
    mine = client_for(answer.author).get("/api/v1/review/edits/").json()["results"]
    assert [r["id"] for r in mine] == [suggestion.pk]
    assert client_for(None).get("/api/v1/review/edits/").status_code == 401


def test_queue_leaves_out_own_suggestions_and_those_already_voted_on(answer):
    who = reviewer()
    suggestion = suggest(answer, by=member(), body=FIXED)
    edit_review(actor=who, revision=suggestion, decision="approve")
    other = answer_make(question=question_make(), body=BODY)
    suggest(other, by=who, body=FIXED)
    assert client_for(who).get("/api/v1/review/edits/").json()["results"] == []


def test_review_queue_query_count_does_not_grow(django_assert_max_num_queries):
    who = reviewer()
    client = client_for(who)
    for _ in range(6):
        post = answer_make(question=question_make(), body=BODY)
        suggestion = suggest(post, by=member(), body=FIXED)
        edit_review(actor=reviewer(), revision=suggestion, decision="approve")
    who._is_moderator = False
    with django_assert_max_num_queries(3):  # count, rows with posts and authors, votes
        response = client.get("/api/v1/review/edits/")
    assert len(response.json()["results"]) == 6


# --- Concurrency ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_by_three_reviewers_approve_once_and_pay_once():
    answer = answer_make(question=question_make(), body=BODY)
    suggester = member()
    suggestion = suggest(answer, by=suggester, body=FIXED)
    reviewers = [reviewer() for _ in range(3)]
    outcomes = run_at_once(
        [
            lambda r=r: edit_review(actor=r, revision=suggestion, decision="approve")
            for r in reviewers
        ]
    )
    results = [o for o in outcomes if not isinstance(o, BaseException)]
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert [r.outcome for r in results].count("approved") == 1
    assert all(isinstance(e, ValidationError) for e in errors)
    assert ReviewVote.objects.filter(revision=suggestion).count() == len(results)
    assert edit_approved_events(suggester) == [2]
    answer.refresh_from_db()
    assert answer.body == FIXED


@pytest.mark.django_db(transaction=True)
def test_a_direct_edit_racing_an_approval_keeps_both_changes_or_supersedes():
    answer = answer_make(question=question_make(), body=BODY)
    suggestion = suggest(answer, by=member(), body=FIXED)
    direct = BODY.replace("键和值。", "键和值(K/V)。")
    outcomes = run_at_once(
        [
            lambda: edit_review(actor=answer.author, revision=suggestion, decision="approve"),
            lambda: post_edit(actor=moderator_create(), post=answer, base_revision=1, body=direct),
        ]
    )
    assert not any(isinstance(o, BaseException) for o in outcomes), [str(o) for o in outcomes]
    suggestion.refresh_from_db()
    answer.refresh_from_db()
    assert not answer.revisions.filter(status="pending").exists()
    if suggestion.status == "approved":  # the approval went first; the edit merged on top
        assert answer.body == FIXED.replace("键和值。", "键和值(K/V)。")
    else:  # the edit went first and superseded the suggestion, which the approval then found
        assert suggestion.status == "superseded" and answer.body == direct
    newest = answer.revisions.filter(status="approved").order_by("-number").first()
    assert answer.body == newest.body and answer.revision_count == newest.number
