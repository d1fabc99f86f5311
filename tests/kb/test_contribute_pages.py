"""The contributing pages: ask, answer, edit (saved, pending, merged, conflict), diff, rollback,
comments, the Markdown preview and tag suggestions. Permission matrix for every write, refused
input re-rendered with the text kept, and query counts."""

import html as html_lib
import re
from urllib.parse import unquote

import pytest
from django.test import Client

from kb.models import Answer, Comment, Question, Revision
from kb.services.comments import comment_create
from kb.services.edits import post_edit
from kb.services.tags import tag_upsert
from kb.templatetags.kb_pages import question_url
from tests.factories import UserFactory, answer_make, moderator_create, question_make

pytestmark = pytest.mark.django_db

BODY = "第一段：MQA 让所有查询头共享一组 K/V。\n\n第二段：GQA 按组共享。\n\n第三段：结论。"
ASK = {"title": "MQA 和 GQA 的区别是什么？", "body": BODY, "tags": "attention，llm"}


def page(response) -> str:
    return response.content.decode()


def as_role(client, role: str, author):
    """anonymous / a logged-in member / the post's author / a moderator."""
    users = {"anonymous": None, "user": UserFactory(), "author": author,
             "moderator": moderator_create()}  # fmt: skip
    if users[role] is not None:
        client.force_login(users[role])
    return users[role]


def textarea_value(html: str, name: str) -> str:
    """The text in the form's textarea `name` (id_<name>; comment forms have other ids)."""
    match = re.search(
        rf'<textarea name="{name}"[^>]*id="id_{name}">\n?(.*?)</textarea>', html, re.DOTALL
    )
    assert match, f"no textarea {name}"
    return html_lib.unescape(match.group(1))


def input_value(html: str, name: str) -> str:
    match = re.search(rf'<input type="[a-z]+" name="{name}"( value="([^"]*)")?', html)
    assert match, f"no input {name}"
    return html_lib.unescape(match.group(2) or "")


def login_redirect(response, next_path: str) -> bool:
    return response.status_code == 302 and unquote(response["Location"]) == (
        f"/accounts/login/?next={next_path}"
    )


# ---------- Ask ----------


def test_anonymous_visitor_is_sent_to_log_in_before_asking(client):
    assert login_redirect(client.get("/questions/ask/"), "/questions/ask/")


@pytest.mark.parametrize("role", ["user", "moderator"])
def test_member_asks_a_question_with_comma_separated_tags(client, role):
    as_role(client, role, None)
    response = client.post("/questions/ask/", ASK)
    question = Question.objects.get()
    assert response.status_code == 302 and response["Location"] == question_url(question)
    assert question.title == ASK["title"] and question.revision_count == 1
    assert sorted(question.tags.values_list("name", flat=True)) == ["attention", "llm"]
    assert "你的问题已发布。" in page(client.get(response["Location"]))


def test_logged_out_post_shows_the_typed_text_on_the_login_page(client):
    response = client.post("/questions/ask/", ASK)
    assert response.status_code == 401
    html = page(response)
    assert "你已不在登录状态" in html and "第二段：GQA 按组共享。" in html
    assert Question.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"title": "太短了"}, "title", "标题"),
        ({"body": "   "}, "body", "正文不能为空"),
        ({"tags": ""}, "tags", "至少"),
        ({"tags": "a b c d e f"}, "tags", "最多 5 个标签"),
        ({"body": BODY + "\n\n<script>alert(1)</script>"}, "body", "不允许"),
        ({"tags": "x" * 41}, "tags", "40"),
    ],
)
def test_refused_question_comes_back_with_errors_and_the_text_kept(
    client, user, change, field, message
):
    client.force_login(user)
    data = {**ASK, **change}
    response = client.post("/questions/ask/", data)
    assert response.status_code == 200
    html = page(response)
    errors = re.search(rf'id="id_{field}_error">(.*?)</ul>', html, re.DOTALL)
    assert errors and message in html_lib.unescape(errors.group(1))
    assert textarea_value(html, "body") == data["body"]
    assert input_value(html, "title") == data["title"]
    assert input_value(html, "tags") == data["tags"]
    assert Question.objects.count() == 0


def test_ask_preview_renders_markdown_and_saves_nothing(client, user):
    client.force_login(user)
    response = client.post(
        "/questions/ask/", {**ASK, "body": "公式 $x^2$ 与 **粗体**", "preview": "1"}
    )
    html = page(response)
    assert response.status_code == 200 and "<math" in html and "<strong>粗体</strong>" in html
    assert textarea_value(html, "body") == "公式 $x^2$ 与 **粗体**"
    assert Question.objects.count() == 0


def test_ask_page_needs_csrf(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post("/questions/ask/", ASK).status_code == 403
    assert Question.objects.count() == 0


def test_ask_page_query_count(client, user, django_assert_num_queries):
    client.force_login(user)
    with django_assert_num_queries(3):  # session, user, the header's unread count
        response = client.get("/questions/ask/")
    html = page(response)
    assert 'list="tag-suggestions"' in html and "/static/kb/editor.js" in html
    assert 'data-similar-url="/api/v1/search/similar/"' in html and "kb/similar.js" in html
    assert_no_inline_code(html)


def assert_no_inline_code(html: str) -> None:
    """CSP-friendly: scripts only from files, no inline handlers or styles."""
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag
    assert re.search(r"<script[^>]*>\s*[^<\s]", html) is None
    assert " style=" not in html and " onclick=" not in html and "<style" not in html


# ---------- Answer ----------


@pytest.mark.parametrize("role", ["user", "author", "moderator"])
def test_members_answer_from_the_question_page(client, role):
    author = UserFactory()
    question = question_make(author=author)
    as_role(client, role, author)
    html = page(client.get(question_url(question)))
    assert f'action="/questions/{question.pk}/answers/#your-answer"' in html
    response = client.post(f"/questions/{question.pk}/answers/", {"body": BODY})
    answer = Answer.objects.get()
    assert response["Location"] == f"{question_url(question)}#answer-{answer.pk}"
    assert answer.body == BODY


def test_anonymous_cannot_answer_and_is_invited_to_log_in(client):
    question = question_make()
    html = page(client.get(question_url(question)))
    assert "/answers/" not in html and "登录" in html and "注册" in html
    response = client.post(f"/questions/{question.pk}/answers/", {})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert Answer.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [("", "正文不能为空"), ("看这里 [点我](javascript:alert(1))", "不允许")],
)
def test_refused_answer_comes_back_on_the_question_page_with_its_text(client, user, body, message):
    question = question_make()
    client.force_login(user)
    response = client.post(f"/questions/{question.pk}/answers/", {"body": body})
    assert response.status_code == 200
    html = page(response)
    assert message in html and question.title in html
    assert textarea_value(html, "body") == body
    assert Answer.objects.count() == 0


def test_closed_question_takes_no_answers(client, user):
    question = question_make()
    Question.objects.filter(pk=question.pk).update(status=Question.Status.CLOSED)
    client.force_login(user)
    assert "/answers/" not in page(client.get(question_url(question)))
    assert client.post(f"/questions/{question.pk}/answers/", {"body": BODY}).status_code == 403


# ---------- Edit ----------


def make_post(kind: str, author):
    question = question_make(author=author, body=BODY)
    if kind == "question":
        return question
    return answer_make(question=question, author=author, body=BODY)


def edit_url(post) -> str:
    kind = "questions" if isinstance(post, Question) else "answers"
    return f"/{kind}/{post.pk}/edit/"


def edit_data(post, body: str, *, base: int = 1, summary: str = "补充") -> dict:
    data = {"body": body, "summary": summary, "base_revision": base}
    if isinstance(post, Question):
        data.update(title=post.title, tags="llm")
    return data


@pytest.mark.parametrize("kind", ["question", "answer"])
def test_anonymous_is_sent_to_log_in_before_editing(client, kind):
    post = make_post(kind, UserFactory())
    assert login_redirect(client.get(edit_url(post)), edit_url(post))


@pytest.mark.parametrize(
    ("role", "state", "message"),
    [("user", "pending", "等待审核"), ("author", "saved", "已保存"),
     ("moderator", "saved", "已保存")],
)  # fmt: skip
@pytest.mark.parametrize("kind", ["question", "answer"])
def test_edit_permission_matrix(client, kind, role, state, message):
    author = UserFactory()
    post = make_post(kind, author)
    as_role(client, role, author)
    form = page(client.get(edit_url(post)))
    assert 'name="base_revision" value="1"' in form
    assert ("审核" in form) == (state == "pending")  # "your edit will be reviewed"
    response = client.post(edit_url(post), edit_data(post, BODY + "\n\n补充。"), follow=True)
    assert response.status_code == 200
    assert message in page(response)
    post.refresh_from_db()
    assert post.body.endswith("补充。") == (state == "saved")
    revision = Revision.objects.get(**{kind: post}, number=2)
    assert revision.status == ("pending" if state == "pending" else "approved")
    assert revision.summary == "补充"


def test_question_edit_changes_title_and_tags(client, user):
    question = question_make(author=user, body=BODY, tags=("llm",))
    client.force_login(user)
    data = {"title": "MQA、GQA 与 MHA 的区别", "body": BODY, "tags": "llm attention",
            "summary": "改标题", "base_revision": 1}  # fmt: skip
    assert client.post(edit_url(question), data).status_code == 302
    question.refresh_from_db()
    assert question.title == data["title"]
    assert sorted(question.tags.values_list("name", flat=True)) == ["attention", "llm"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"body": ""}, "正文不能为空"),
        ({"summary": "长" * 301}, "300"),
        ({"body": BODY}, "没有任何改动"),
        ({"title": "短"}, "标题"),
    ],
)
def test_refused_edit_comes_back_with_errors_and_the_text_kept(client, user, change, message):
    question = question_make(author=user, body=BODY)
    client.force_login(user)
    data = {**edit_data(question, BODY + "\n\n改动。"), **change}
    response = client.post(edit_url(question), data)
    assert response.status_code == 200
    html = page(response)
    assert message in html
    assert textarea_value(html, "body") == data["body"]
    assert input_value(html, "summary") == data["summary"]
    assert Revision.objects.filter(question=question).count() == 1


def test_edit_without_base_revision_keeps_the_text_and_restarts_from_the_current_one(client, user):
    answer = make_post("answer", user)
    client.force_login(user)
    response = client.post(edit_url(answer), {"body": BODY + "\n\n新段落。", "summary": "s"})
    html = page(response)
    assert response.status_code == 200 and "当前版本" in html
    assert textarea_value(html, "body") == BODY + "\n\n新段落。"
    assert 'name="base_revision" value="1"' in html
    assert Revision.objects.filter(answer=answer).count() == 1


def test_edit_preview_renders_and_saves_nothing(client, user):
    answer = make_post("answer", user)
    client.force_login(user)
    data = {**edit_data(answer, "新的 $\\alpha$ 公式"), "preview": "1"}
    html = page(client.post(edit_url(answer), data))
    assert "<math" in html and textarea_value(html, "body") == "新的 $\\alpha$ 公式"
    assert Revision.objects.filter(answer=answer).count() == 1


def test_second_suggestion_is_refused_while_one_waits(client, user, other_user):
    answer = make_post("answer", user)
    post_edit(actor=other_user, post=answer, base_revision=1, body=BODY + "\n\n建议。")
    client.force_login(UserFactory())
    assert "已有一个修改建议在等待审核" in page(client.get(edit_url(answer)))
    response = client.post(edit_url(answer), edit_data(answer, BODY + "\n\n我的建议。"))
    html = page(response)
    assert response.status_code == 200 and "等待审核" in html
    assert textarea_value(html, "body") == BODY + "\n\n我的建议。"


def test_edits_to_different_paragraphs_are_merged_and_the_user_is_told(client, user):
    answer = make_post("answer", user)
    post_edit(actor=user, post=answer, base_revision=1, body=BODY.replace("第一段", "第一段（改）"))
    client.force_login(user)
    mine = BODY.replace("第三段：结论。", "第三段：新结论。")
    # Browsers send a textarea's line breaks as CRLF; the merge must still see equal lines.
    data = edit_data(answer, mine.replace("\n", "\r\n"), base=1)
    response = client.post(edit_url(answer), data, follow=True)
    assert "你们的改动没有重叠" in page(response)
    answer.refresh_from_db()
    assert "第一段（改）" in answer.body and "新结论" in answer.body


def test_overlapping_edit_shows_the_conflict_page_with_the_users_text_kept(client, user):
    answer = make_post("answer", user)
    other = moderator_create(display_name="版主甲")
    post_edit(actor=other, post=answer, base_revision=1, summary="改第二段",
              body=BODY.replace("GQA 按组共享", "GQA 把查询头分组，每组共享 K/V"))  # fmt: skip
    client.force_login(user)
    mine = BODY.replace("GQA 按组共享", "GQA 是 MQA 和 MHA 的折中")
    response = client.post(edit_url(answer), edit_data(answer, mine, summary="我的说明"))
    assert response.status_code == 409
    html = page(response)
    assert "有人在你编辑时修改了这篇内容" in html and "版主甲" in html and "改第二段" in html
    assert textarea_value(html, "body") == mine  # the form holds the user's text
    assert input_value(html, "summary") == "我的说明"
    assert 'name="base_revision" value="2"' in html
    merged = re.search(r'<textarea id="merged-text"[^>]*>(.*?)</textarea>', html, re.DOTALL)
    assert "&lt;&lt;&lt;&lt;&lt;&lt;&lt;" in merged.group(1) and "折中" in merged.group(1)
    assert '<del class="diff-delete">' in html and '<ins class="diff-insert">' in html
    assert Revision.objects.filter(answer=answer).count() == 2  # nothing stored
    # Sending the form as it came back (now based on revision 2) saves it.
    again = client.post(edit_url(answer), edit_data(answer, mine, base=2))
    assert again.status_code == 302
    answer.refresh_from_db()
    assert answer.body == mine


def test_locked_post_can_be_edited_by_moderators_only(client, user):
    question = question_make(author=user)
    Question.objects.filter(pk=question.pk).update(status=Question.Status.LOCKED)
    client.force_login(user)
    assert client.get(edit_url(question)).status_code == 403
    client.force_login(moderator_create())
    assert client.get(edit_url(question)).status_code == 200


def test_edit_links_are_shown_to_members_only(client, user):
    question = question_make()
    answer = answer_make(question=question)
    assert "/edit/" not in page(client.get(question_url(question)))
    client.force_login(user)
    html = page(client.get(question_url(question)))
    assert edit_url(question) in html and edit_url(answer) in html


@pytest.mark.parametrize("kind", ["question", "answer"])
def test_edit_page_query_count(client, user, kind, django_assert_num_queries):
    post = make_post(kind, UserFactory())
    client.force_login(user)
    # session, user, the post (with author; a question also its tag names), moderator group,
    # the pending-suggestion check, the header's unread count
    with django_assert_num_queries(6):
        assert client.get(edit_url(post)).status_code == 200


# ---------- History, diff, rollback ----------


def history_url(post) -> str:
    kind = "questions" if isinstance(post, Question) else "answers"
    return f"/{kind}/{post.pk}/revisions/"


def test_history_has_compare_links_and_a_compare_form(client, user):
    answer = make_post("answer", user)
    post_edit(actor=user, post=answer, base_revision=1, body=BODY + "\n\n补充。")
    html = page(client.get(history_url(answer)))
    assert f'href="/answers/{answer.pk}/diff/?from=1&amp;to=2"' in html
    assert 'name="from"' in html and 'name="to"' in html
    assert "回滚" not in html  # anonymous: no rollback


@pytest.mark.parametrize(("role", "shown"), [("user", False), ("author", True),
                                             ("moderator", True)])  # fmt: skip
def test_rollback_buttons_only_for_those_who_may(client, role, shown):
    author = UserFactory()
    question = make_post("question", author)
    post_edit(actor=author, post=question, base_revision=1, body=BODY + "\n\n补充。")
    as_role(client, role, author)
    html = page(client.get(history_url(question)))
    assert ('name="to" value="1"' in html) == shown
    assert 'name="to" value="2"' not in html  # never to the current revision


@pytest.mark.parametrize(("role", "status"), [("user", 403), ("author", 302),
                                              ("moderator", 302)])  # fmt: skip
@pytest.mark.parametrize("kind", ["question", "answer"])
def test_rollback_permission_matrix(client, kind, role, status):
    author = UserFactory()
    post = make_post(kind, author)
    post_edit(actor=author, post=post, base_revision=1, body=BODY + "\n\n错误的补充。")
    as_role(client, role, author)
    url = history_url(post).replace("revisions", "rollback")
    response = client.post(url, {"to": 1, "summary": "补充是错的"})
    assert response.status_code == status
    post.refresh_from_db()
    assert (post.body == BODY) == (status == 302)
    if status == 302:
        revision = Revision.objects.get(**{kind: post}, number=3)
        assert revision.rollback_of.number == 1 and revision.summary == "补充是错的"
        assert "第 3 版恢复了第 1 版" in page(client.get(response["Location"]))


def test_anonymous_rollback_goes_to_log_in(client, user):
    question = make_post("question", user)
    response = client.post(f"/questions/{question.pk}/rollback/", {"to": 1})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_rollback_to_the_current_revision_is_refused_with_a_message(client, user):
    question = make_post("question", user)
    client.force_login(user)
    response = client.post(f"/questions/{question.pk}/rollback/", {"to": 1}, follow=True)
    assert "已经是当前版本" in page(response)
    assert Revision.objects.filter(question=question).count() == 1


def test_question_diff_shows_title_tags_and_body_changes(client, user):
    body = "公式 $y=x$。\n\n不变的段落。"
    question = question_make(author=user, title="什么是 RMSNorm？", body=body, tags=("llm",))
    post_edit(actor=user, post=question, base_revision=1, title="什么是 RMSNorm 归一化？",
              body="公式 $y=x/\\mathrm{RMS}(x)$。\n\n不变的段落。", tags=["llm", "normalization"],
              summary="改公式")  # fmt: skip
    response = client.get(f"/questions/{question.pk}/diff/", {"from": 1, "to": 2})
    assert response.status_code == 200
    html = page(response)
    assert re.search(r'<ins class="diff-insert">\s*归一化</ins>', html)
    assert '<ins class="tag tag--added"' in html and "normalization" in html
    assert 'class="diff-delete diff-math">$y=x$</del>' in html
    assert "改公式" in html and 'aria-current="page">行内' in html
    side = page(client.get(f"/questions/{question.pk}/diff/", {"from": 1, "to": 2, "view": "side"}))
    assert '<table class="diff-table">' in side and "diff-row--replace" in side


def test_diff_defaults_to_the_latest_change_and_refuses_bad_input(client, user):
    answer = make_post("answer", user)
    post_edit(actor=user, post=answer, base_revision=1, body=BODY + "\n\n补充。")
    latest = client.get(f"/answers/{answer.pk}/diff/")
    assert latest.status_code == 200 and latest.context["old"].number == 1
    bad = client.get(f"/answers/{answer.pk}/diff/", {"from": "abc", "to": "2"})
    assert bad.status_code == 400 and "选择两个版本" in page(bad)
    assert client.get(f"/answers/{answer.pk}/diff/", {"from": 1, "to": 9}).status_code == 404


def test_diff_of_a_hidden_post_is_404(client, user):
    question = make_post("question", user)
    Question.objects.filter(pk=question.pk).update(status=Question.Status.DELETED)
    assert client.get(f"/questions/{question.pk}/diff/?from=1&to=1").status_code == 404


@pytest.mark.parametrize("kind", ["question", "answer"])
def test_diff_page_query_count(client, user, kind, django_assert_num_queries):
    post = make_post(kind, user)
    for n in range(5):
        post_edit(actor=user, post=post, base_revision=n + 1, body=BODY + f"\n\n第 {n} 次。")
    url = history_url(post).replace("revisions", "diff") + "?from=2&to=5"
    # the post (a question with its tag names), revision numbers, the two revisions with authors
    with django_assert_num_queries(3):
        assert client.get(url).status_code == 200
    client.force_login(user)
    # + session, user, moderator group (visibility of deleted posts), the unread count
    with django_assert_num_queries(7):
        assert client.get(url).status_code == 200


def test_history_query_count_for_the_author(client, user, django_assert_num_queries):
    question = make_post("question", user)
    for n in range(6):
        post_edit(actor=user, post=question, base_revision=n + 1, body=BODY + f"\n\n第 {n} 次。")
    client.force_login(user)
    # session, user, question + author + tag names, revisions + authors, moderator group, timeline,
    # the header's unread count
    with django_assert_num_queries(7):
        response = client.get(history_url(question))
    assert 'name="to" value="1"' in page(response)


# ---------- Comments ----------


def test_members_comment_under_questions_and_answers(client, user):
    question = question_make()
    answer = answer_make(question=question)
    client.force_login(user)
    first = client.post(f"/questions/{question.pk}/comments/", {"body": "问题写得清楚。"})
    second = client.post(f"/answers/{answer.pk}/comments/", {"body": "请补充 $d_k$ 的含义。"})
    comments = list(Comment.objects.order_by("pk"))
    assert first["Location"] == f"{question_url(question)}#comment-{comments[0].pk}"
    assert second["Location"] == f"{question_url(question)}#comment-{comments[1].pk}"
    html = page(client.get(question_url(question)))
    assert "问题写得清楚。" in html and "<math" in html


def test_anonymous_sees_comments_but_no_comment_form(client):
    question = question_make()
    comment_create(actor=UserFactory(), post=question, body="已有的评论。")
    html = page(client.get(question_url(question)))
    assert "已有的评论。" in html and "/comments/" not in html
    response = client.post(f"/questions/{question.pk}/comments/", {"body": "我的评论"})
    assert response.status_code == 401 and "我的评论" in page(response)  # kept, not saved
    assert Comment.objects.count() == 1


def test_refused_comment_comes_back_with_its_text(client, user):
    question = question_make()
    answer = answer_make(question=question)
    client.force_login(user)
    response = client.post(f"/answers/{answer.pk}/comments/", {"body": "长" * 601})
    html = page(response)
    assert response.status_code == 200 and "600" in html
    assert "长" * 601 in html
    assert (
        f'id="id_answer-{answer.pk}_body"' in html and '<details class="comment-form" open' in html
    )
    assert Comment.objects.count() == 0


def test_comment_author_edits_and_deletes(client, user):
    question = question_make()
    comment = comment_create(actor=user, post=question, body="有错字的评论。")
    client.force_login(user)
    assert f"/comments/{comment.pk}/edit/" in page(client.get(question_url(question)))
    assert client.post(f"/comments/{comment.pk}/edit/", {"body": "改好的评论。"}).status_code == 302
    comment.refresh_from_db()
    assert comment.body == "改好的评论。"
    assert client.post(f"/comments/{comment.pk}/delete/").status_code == 302
    comment.refresh_from_db()
    assert comment.is_deleted


def test_others_cannot_edit_or_delete_a_comment(client, user, other_user):
    question = question_make()
    comment = comment_create(actor=user, post=question, body="别人的评论。")
    client.force_login(other_user)
    assert client.get(f"/comments/{comment.pk}/edit/").status_code == 403
    assert client.post(f"/comments/{comment.pk}/delete/").status_code == 403
    comment.refresh_from_db()
    assert not comment.is_deleted


# ---------- Preview and tag suggestions ----------


def test_preview_renders_with_the_post_renderer(client, user):
    client.force_login(user)
    response = client.post("/preview/", {"body": "**粗** 与 $x^2$\n\n<script>x</script>"})
    data = response.json()
    assert response.status_code == 200 and "<strong>粗</strong>" in data["html"]
    assert "<math" in data["html"] and "<script" not in data["html"]
    assert data["problems"] and "不允许" in data["problems"][0]


def test_preview_needs_login_and_csrf(client, user):
    assert client.post("/preview/", {"body": "x"}).status_code == 403
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post("/preview/", {"body": "x"}).status_code == 403
    strict.get("/questions/ask/")  # sets the csrftoken cookie, as the page does for the script
    token = strict.cookies["csrftoken"].value
    assert (
        strict.post("/preview/", {"body": "x"}, headers={"X-CSRFToken": token}).status_code == 200
    )


def test_tag_autocomplete_finds_names_and_aliases(client, django_assert_num_queries):
    tag_upsert(name="normalization", aliases=["层归一化", "layernorm"])
    tag_upsert(name="llm", aliases=["大模型"])
    question_make(tags=("normalization",))
    with django_assert_num_queries(2):
        response = client.get("/tags/autocomplete/", {"q": "llm, 归一"})
    assert response.json()["results"] == [
        {"name": "normalization", "count": 1, "alias": "层归一化"}
    ]
    names = [t["name"] for t in client.get("/tags/autocomplete/", {"q": "n"}).json()["results"]]
    assert names[0] == "normalization"
    assert client.get("/tags/autocomplete/").json()["results"][0]["name"] == "normalization"


def test_a_title_that_spells_a_page_name_gets_no_slug(client, user):
    question = question_make(author=user, title="Rollback")
    assert question_url(question) == f"/questions/{question.pk}/"
    assert client.get(question_url(question)).status_code == 200
