"""The moderation pages and the tools on the question page: who sees what, the forms going
through the services, refusals as 4xx pages with the reason, and query counts."""

import re

import pytest
from django.test import Client

from kb.models import Flag, ModerationAction, Question, ReviewVote, Revision
from kb.services.closing import question_close
from kb.services.flags import flag_create
from kb.services.moderation import post_lock
from kb.services.reviews import edit_review
from tests.factories import UserFactory, answer_make, moderator_create, question_make
from tests.kb.moderation_support import closer, editor, member, reviewer, suggest

pytestmark = pytest.mark.django_db

BODY = "第一段:KV Cache 缓存每层的键和值。\n\n第二段:解码时只算新 token。"
FIXED = BODY + "\n\n第三段:显存换速度。"


def logged_in(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def html_of(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    """The refusal reasons (refused page) or the messages shown on the page."""
    if "reasons" in response.context:
        return list(response.context["reasons"])
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def answer():
    return answer_make(question=question_make(), author=UserFactory(), body=BODY)


# --- The review queue ---------------------------------------------------------------------------


def test_the_review_queue_shows_the_diff_and_approving_updates_the_post(answer):
    suggestion = suggest(answer, by=member(), body=FIXED, summary="补上结论")
    client = logged_in(answer.author)  # the post's author decides alone
    html = html_of(client.get("/review/edits/"))
    assert "审核修改建议" in html and "补上结论" in html
    assert '<ins class="diff-ins">' in html or "diff-ins" in html
    response = client.post(
        f"/review/edits/{suggestion.pk}/", {"decision": "approve", "next": "queue"}
    )
    assert response.status_code == 302 and response["Location"].endswith("/review/edits/")
    answer.refresh_from_db()
    assert answer.body == FIXED
    assert "修改建议已通过" in html_of(client.get("/review/edits/"))


def test_rejecting_without_a_reason_is_a_400_with_the_reason_and_stores_nothing(answer):
    suggestion = suggest(answer, by=member(), body=FIXED)
    response = logged_in(reviewer()).post(
        f"/review/edits/{suggestion.pk}/", {"decision": "reject", "next": "queue"}
    )
    assert response.status_code == 400
    assert any("说明原因" in m for m in messages_of(response))
    assert not ReviewVote.objects.exists()


def test_improving_from_the_page_saves_the_reviewers_edit_on_top(answer):
    suggestion = suggest(answer, by=member(), body=FIXED)
    client = logged_in(reviewer())
    page = html_of(client.get(f"/review/edits/{suggestion.pk}/"))
    assert 'name="decision" value="improve"' in page
    better = FIXED.replace("显存换速度", "以显存换速度")
    response = client.post(
        f"/review/edits/{suggestion.pk}/",
        {"decision": "improve", "body": better, "summary": "润色"},
    )
    assert response.status_code == 302
    answer.refresh_from_db()
    assert answer.body == better and answer.revision_count == 3


def test_the_suggester_sees_their_edit_pending_and_cannot_review_it(answer):
    suggester = member()
    suggestion = suggest(answer, by=suggester, body=FIXED)
    client = logged_in(suggester)
    question_page = html_of(client.get(f"/questions/{answer.question_id}/"))
    assert "你的修改建议正在等待审核" in question_page
    page = html_of(client.get(f"/review/edits/{suggestion.pk}/"))
    assert 'value="approve"' not in page
    response = client.post(f"/review/edits/{suggestion.pk}/", {"decision": "approve"})
    assert response.status_code == 403
    suggestion.refresh_from_db()
    assert suggestion.status == "pending"


@pytest.mark.parametrize(
    ("role", "sees"), [("user", False), ("reviewer", True), ("moderator", True)]
)
def test_who_sees_others_suggestions_in_the_queue(answer, role, sees):
    suggest(answer, by=member(), body=FIXED, summary="独特的说明")
    user = {"user": member(), "reviewer": reviewer(), "moderator": moderator_create()}[role]
    assert ("独特的说明" in html_of(logged_in(user).get("/review/edits/"))) == sees


def test_the_queue_lists_my_suggestions_on_questions_and_answers(answer):
    suggester = member()
    on_answer = suggest(answer, by=suggester, body=FIXED)
    question = question_make(title="另一个问题:GQA 的分组怎么选?")
    on_question = suggest(question, by=suggester, body=question.body + "\n\n补一句。")
    edit_review(actor=moderator_create(), revision=on_answer, decision="reject", reason="不准确")
    response = logged_in(suggester).get("/review/edits/")
    assert response.status_code == 200
    mine = {revision.pk: revision.thread for revision in response.context["mine"]}
    assert mine == {on_answer.pk: answer.question, on_question.pk: question}
    assert question.title in html_of(response)


def test_anonymous_visitors_are_sent_to_log_in():
    for path in ("/review/edits/", "/review/flags/", "/review/corrections/", "/moderation/log/"):
        response = Client().get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_review_queue_page_query_count(django_assert_max_num_queries):
    who = reviewer()
    for _ in range(5):
        post = answer_make(question=question_make(), body=BODY)
        suggest(post, by=member(), body=FIXED)
    client = logged_in(who)
    # session, user, moderator check, count, suggestions with posts, votes, own suggestions
    with django_assert_max_num_queries(8):
        response = client.get("/review/edits/")
    assert len(response.context["suggestions"]) == 5


# --- The flag queue ------------------------------------------------------------------------------


def test_flagging_from_the_question_page_reaches_the_moderators_queue(answer):
    flagger = member()
    client = logged_in(flagger)
    page = html_of(client.get(f"/questions/{answer.question_id}/"))
    assert f'action="/moderation/answer/{answer.pk}/flag/"' in page
    response = client.post(
        f"/moderation/answer/{answer.pk}/flag/", {"reason": "spam", "text": "广告"}
    )
    assert response.status_code == 302
    flag = Flag.objects.get()
    assert flag.answer == answer and flag.reason == "spam" and flag.user == flagger
    moderator = logged_in(moderator_create())
    queue = html_of(moderator.get("/review/flags/"))
    assert "广告" in queue and f'action="/review/flags/answer/{answer.pk}/"' in queue
    response = moderator.post(f"/review/flags/answer/{answer.pk}/", {"decision": "declined"})
    assert response.status_code == 302
    flag.refresh_from_db()
    assert flag.status == "declined"


def test_a_bad_flag_from_the_page_is_a_400_with_the_reason(answer):
    response = logged_in(member()).post(f"/moderation/answer/{answer.pk}/flag/", {"reason": "x"})
    assert response.status_code == 400 and messages_of(response)
    assert not Flag.objects.exists()


def test_the_author_sees_no_flag_form_and_cannot_flag(answer):
    client = logged_in(answer.author)
    page = html_of(client.get(f"/questions/{answer.question_id}/"))
    assert f"/moderation/answer/{answer.pk}/flag/" not in page
    response = client.post(f"/moderation/answer/{answer.pk}/flag/", {"reason": "spam"})
    assert response.status_code == 403 and not Flag.objects.exists()


@pytest.mark.parametrize(("role", "status"), [("user", 403), ("editor", 403), ("moderator", 200)])
def test_the_flag_queue_is_for_moderators(role, status):
    user = {"user": member(), "editor": editor(), "moderator": moderator_create()}[role]
    assert logged_in(user).get("/review/flags/").status_code == status


def test_flag_queue_page_query_count(django_assert_max_num_queries):
    for _ in range(5):
        post = answer_make(question=question_make())
        flag_create(actor=member(), target=post, reason="rude")
    client = logged_in(moderator_create())
    # session, user, moderator check, count, targets page, flags with their targets
    with django_assert_max_num_queries(7):
        response = client.get("/review/flags/")
    assert len(response.context["groups"]) == 5


def test_the_correction_queue_is_for_editors(answer):
    flag_create(actor=member(), target=answer, reason="outdated", text="有新论文")
    assert logged_in(member()).get("/review/corrections/").status_code == 403
    html = html_of(logged_in(editor()).get("/review/corrections/"))
    assert "有新论文" in html and "过时" in html


# --- Tools on the question page ------------------------------------------------------------------


def test_anonymous_visitors_see_no_tools(answer):
    html = html_of(Client().get(f"/questions/{answer.question_id}/"))
    assert "/moderation/" not in html


def test_close_votes_from_the_page(answer):
    question = answer.question
    voters = [closer() for _ in range(3)]
    page = html_of(logged_in(voters[0]).get(f"/questions/{question.pk}/"))
    assert f'action="/moderation/question/{question.pk}/close/"' in page
    for voter in voters:
        response = logged_in(voter).post(
            f"/moderation/question/{question.pk}/close/", {"reason": "off_topic"}
        )
        assert response.status_code == 302
    question.refresh_from_db()
    assert question.status == "closed"
    html = html_of(Client().get(f"/questions/{question.pk}/"))
    assert "此问题已关闭" in html or "已关闭" in html


def test_closing_as_duplicate_without_a_number_is_a_400(answer):
    question = answer.question
    response = logged_in(closer()).post(
        f"/moderation/question/{question.pk}/close/", {"reason": "duplicate", "duplicate_of": "x"}
    )
    assert response.status_code == 400
    question.refresh_from_db()
    assert question.status == "open"


@pytest.mark.parametrize(("role", "status"), [("user", 403), ("author", 403), ("moderator", 302)])
def test_locking_from_the_page(answer, role, status):
    user = {"user": closer(), "author": answer.author, "moderator": moderator_create()}[role]
    response = logged_in(user).post(
        f"/moderation/answer/{answer.pk}/lock/", {"reason": "编辑战", "days": "3"}
    )
    assert response.status_code == status
    answer.refresh_from_db()
    assert (answer.locked_until is not None) == (status == 302)
    if status == 302:
        html = html_of(Client().get(f"/questions/{answer.question_id}/"))
        assert "此回答已锁定" in html


def test_moderators_delete_and_undelete_from_the_page(answer):
    moderator = logged_in(moderator_create())
    assert moderator.post(
        f"/moderation/answer/{answer.pk}/delete/", {"reason": "x"}
    ).status_code == (302)
    answer.refresh_from_db()
    assert answer.is_deleted
    page = html_of(moderator.get(f"/questions/{answer.question_id}/"))
    assert f'action="/moderation/answer/{answer.pk}/undelete/"' in page
    moderator.post(f"/moderation/answer/{answer.pk}/undelete/")
    answer.refresh_from_db()
    assert not answer.is_deleted


def test_unknown_tool_is_a_404(answer):
    client = logged_in(moderator_create())
    assert client.post(f"/moderation/answer/{answer.pk}/protect/").status_code == 404
    assert client.post(f"/moderation/vote/{answer.pk}/delete/").status_code == 404
    # Only destructive tools answer a GET (their confirmation page, tests/kb/test_confirm_pages.py).
    assert client.get(f"/moderation/answer/{answer.pk}/lock/").status_code == 405


def test_logged_in_question_page_tools_do_not_add_queries_per_answer(
    answer, django_assert_max_num_queries
):
    question = answer.question
    client = logged_in(closer())
    client.get(f"/questions/{question.pk}/")
    with django_assert_max_num_queries(12) as few:
        client.get(f"/questions/{question.pk}/")
    for _ in range(10):
        answer_make(question=question)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(f"/questions/{question.pk}/")


# --- Timeline, log, suspension --------------------------------------------------------------------


def test_the_history_page_shows_the_public_timeline(answer):
    question = answer.question
    moderator = moderator_create(username="版主甲")
    question_close(actor=closer(), question=question, reason="off_topic")
    post_lock(actor=moderator, post=question, reason="争议太大")
    html = html_of(Client().get(f"/questions/{question.pk}/revisions/"))
    assert "争议太大" in html and "版主甲" in html
    timeline = html[html.index('id="timeline-heading"') :]
    assert "投票关闭" not in timeline  # a single close vote is not public


def test_the_moderation_log_page_filters(answer):
    moderator = moderator_create()
    post_lock(actor=moderator, post=answer, reason="锁定原因")
    suggestion = suggest(Question.objects.get(pk=answer.question_id), by=member())
    edit_review(actor=moderator, revision=suggestion, decision="reject", reason="拒绝原因")
    client = logged_in(moderator)
    html = html_of(client.get("/moderation/log/"))
    assert "锁定原因" in html and "拒绝原因" in html
    html = html_of(client.get("/moderation/log/?action=post_lock"))
    assert "锁定原因" in html and "拒绝原因" not in html
    assert logged_in(editor()).get("/moderation/log/").status_code == 403


def test_moderation_log_page_query_count(django_assert_max_num_queries):
    moderator = moderator_create()
    for _ in range(10):
        post_lock(actor=moderator, post=answer_make(question=question_make()), reason="x")
    client = logged_in(moderator)
    with django_assert_max_num_queries(6):  # session, user, moderator check, count, rows
        response = client.get("/moderation/log/")
    assert len(response.context["page"].object_list) == 10


def test_suspending_from_the_page():
    target = member(username="捣乱者")
    client = logged_in(moderator_create())
    response = client.post("/moderation/users/捣乱者/", {"days": "3", "reason": "刷屏"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.suspended_until is not None
    response = client.post("/moderation/users/捣乱者/", {"days": "abc", "reason": "刷屏"})
    assert response.status_code == 400
    assert ModerationAction.objects.filter(action="user_suspend").count() == 1
    assert logged_in(member()).get("/moderation/users/捣乱者/").status_code == 403


def test_english_pages_work(answer):
    suggest(answer, by=member(), body=FIXED)
    html = html_of(logged_in(reviewer()).get("/en/review/edits/"))
    assert "Review suggested edits" in html
    assert re.search(r'lang="en"', html)
    assert Revision.objects.filter(status="pending").count() == 1


def test_a_comment_is_flagged_from_its_own_page_and_undeleted_by_a_moderator(answer):
    from kb.services.comments import comment_create, comment_delete

    comment = comment_create(actor=UserFactory(), post=answer, body="加微信领面试资料")
    flagger = member()
    client = logged_in(flagger)
    page = html_of(client.get(f"/questions/{answer.question_id}/"))
    assert f'href="/moderation/comments/{comment.pk}/flag/"' in page
    assert "加微信领面试资料" in html_of(client.get(f"/moderation/comments/{comment.pk}/flag/"))
    response = client.post(f"/moderation/comments/{comment.pk}/flag/", {"reason": "moderator"})
    assert response.status_code == 400 and response.context["errors"]  # text is required
    response = client.post(f"/moderation/comments/{comment.pk}/flag/", {"reason": "spam"})
    assert response.status_code == 302 and response["Location"].endswith(f"#comment-{comment.pk}")
    assert Flag.objects.get().comment == comment
    moderator = moderator_create()
    comment_delete(actor=moderator, comment=comment)
    client = logged_in(moderator)
    page = html_of(client.get(f"/questions/{answer.question_id}/"))
    assert f'action="/moderation/comment/{comment.pk}/undelete/"' in page
    assert client.post(f"/moderation/comment/{comment.pk}/undelete/").status_code == 302
    comment.refresh_from_db()
    assert not comment.is_deleted


def test_a_new_member_asking_twice_is_told_when_to_retry(client):
    newcomer = member()
    client.force_login(newcomer)
    form = {"title": "什么是旋转位置编码 RoPE?", "body": "请解释 RoPE。", "tags": "attention"}
    assert client.post("/questions/ask/", form).status_code == 302
    response = client.post("/questions/ask/", {**form, "title": "什么是 ALiBi 位置编码?"})
    assert response.status_code in (200, 400)
    assert "之后再试" in html_of(response)
    assert Question.objects.filter(author=newcomer).count() == 1
