# ruff: noqa: F811 - `browser` is the fixture imported from tests/test_browser.py
"""Moderation flows a person clicks through, in Debian's Chromium driven by Playwright: reviewing
a suggested edit, flagging an answer and handling the flag. Screenshots of the moderation pages
at phone and desktop widths go to test-output/ (gitignored) for people to look at."""

import pytest
from django.conf import settings
from django.test import Client

from kb.models import Flag, Question
from kb.services.closing import question_close
from kb.services.flags import flag_create
from kb.services.moderation import post_lock
from tests.factories import UserFactory, answer_make, moderator_create, question_make
from tests.kb.moderation_support import closer, editor, member, reviewer, suggest
from tests.test_browser import OUTPUT_DIR, WIDTHS, browser  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser

BODY = "KV Cache 缓存每一层的键和值,解码时只需计算新 token 的注意力。"
FIXED = BODY + "\n\n代价是显存随序列长度线性增长。"


def logged_in_context(browser, live_server, user, width: int = 1280):
    """A browser context carrying `user`'s session (made by Django's test client)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context


def test_reviewer_approves_a_suggested_edit_and_the_post_changes(
    browser, live_server, transactional_db
):
    author = UserFactory(username="作者")
    answer = answer_make(question=question_make(author=author), author=author, body=BODY)
    suggest(answer, by=member(username="热心读者"), body=FIXED, summary="补充显存代价")
    context = logged_in_context(browser, live_server, author)  # the author decides alone
    page = context.new_page()
    try:
        page.goto(live_server.url + "/review/edits/")
        card = page.locator(".mod-card").first
        assert "补充显存代价" in card.inner_text()
        assert "代价是显存随序列长度线性增长" in card.locator(".diff-inline").inner_text()
        page.get_by_role("button", name="通过").first.click()
        page.wait_for_url("**/review/edits/")
        assert "修改建议已通过" in page.locator(".messages").inner_text()
        page.goto(live_server.url + f"/questions/{answer.question_id}/")
        assert "代价是显存随序列长度线性增长" in page.locator(f"#answer-{answer.pk}").inner_text()
    finally:
        context.close()
    answer.refresh_from_db()
    assert answer.body == FIXED and answer.revision_count == 2


def test_member_flags_an_answer_and_a_moderator_marks_it_helpful(
    browser, live_server, transactional_db
):
    answer = answer_make(question=question_make(), body="回答里有一个错误的公式。")
    flagger = member(username="细心读者")
    context = logged_in_context(browser, live_server, flagger)
    page = context.new_page()
    try:
        page.goto(live_server.url + f"/questions/{answer.question_id}/")
        tools = page.locator(f"#answer-{answer.pk} .mod-tools")
        tools.get_by_text("举报", exact=True).click()
        tools.get_by_label("内容不准确").check()
        tools.get_by_label("详细说明").fill("第二个公式少了平方根")
        tools.get_by_role("button", name="提交举报").click()
        page.wait_for_url(f"**/questions/{answer.question_id}/**")
        assert "举报已提交" in page.locator(".messages").inner_text()
    finally:
        context.close()
    flag = Flag.objects.get()
    assert (flag.reason, flag.text, flag.user) == ("inaccurate", "第二个公式少了平方根", flagger)

    context = logged_in_context(browser, live_server, moderator_create(username="版主"))
    page = context.new_page()
    try:
        page.goto(live_server.url + "/review/flags/")
        card = page.locator(".mod-card").first
        assert "第二个公式少了平方根" in card.inner_text()
        card.get_by_role("button", name="有帮助").click()
        page.wait_for_url("**/review/flags/")
        assert "举报已认定有帮助" in page.locator(".messages").inner_text()
        assert "没有待处理的举报" in page.locator("main").inner_text()
    finally:
        context.close()
    flag.refresh_from_db()
    assert flag.status == "helpful" and flag.handled_by.username == "版主"


@pytest.fixture
def moderated_site(transactional_db):
    """Something on every moderation page."""
    moderator = moderator_create(username="版主")
    question = question_make(
        author=UserFactory(username="提问者"), title="为什么 LayerNorm 放在残差分支之前训练更稳定?"
    )
    answer = answer_make(question=question, body=BODY)
    suggest(answer, by=member(username="热心读者"), body=FIXED, summary="补充显存代价")
    flag_create(actor=member(), target=answer, reason="outdated", text="已有更新的研究结论")
    flag_create(actor=member(), target=question, reason="spam")
    question_close(actor=closer(), question=question, reason="needs_details")
    post_lock(actor=moderator, post=answer, reason="编辑争议,冷静一下", days=3)
    other = question_make(title="Pre-Norm 和 Post-Norm 有什么区别?")
    post_lock(actor=moderator, post=other, reason="内容已核实")
    return {"moderator": moderator, "question": Question.objects.get(pk=question.pk)}


@pytest.mark.parametrize("device", list(WIDTHS))
def test_moderation_pages_fit_and_are_captured(browser, live_server, moderated_site, device):
    OUTPUT_DIR.mkdir(exist_ok=True)
    width = WIDTHS[device]
    question = moderated_site["question"]
    pages = {
        "review-edits": "/review/edits/",
        "flag-queue": "/review/flags/",
        "corrections": "/review/corrections/",
        "moderation-log": "/moderation/log/",
        "question-tools": f"/questions/{question.pk}/",
        "timeline": f"/questions/{question.pk}/revisions/",
        "suspend": "/moderation/users/热心读者/",
        "review-edits-en": "/en/review/edits/",
    }
    context = logged_in_context(browser, live_server, moderated_site["moderator"], width)
    page = context.new_page()
    try:
        for name, path in pages.items():
            response = page.goto(live_server.url + path)
            assert response is not None and response.status == 200, path
            if name == "question-tools":
                for summary in page.locator(".mod-tool > summary").all()[:3]:
                    summary.click()
            assert page.evaluate("document.documentElement.scrollWidth") <= width, path
            page.screenshot(
                path=str(OUTPUT_DIR / f"moderation-{name}-{device}.png"), full_page=True
            )
    finally:
        context.close()


def test_an_editor_sees_the_correction_queue_on_a_phone(browser, live_server, moderated_site):
    context = logged_in_context(browser, live_server, editor(), WIDTHS["phone"])
    page = context.new_page()
    try:
        page.goto(live_server.url + "/review/corrections/")
        assert "已有更新的研究结论" in page.locator("main").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS["phone"]
    finally:
        context.close()


def test_a_reviewer_without_the_post_sees_the_queue(browser, live_server, moderated_site):
    context = logged_in_context(browser, live_server, reviewer())
    page = context.new_page()
    try:
        page.goto(live_server.url + "/review/edits/")
        assert "补充显存代价" in page.locator("main").inner_text()
    finally:
        context.close()


def test_deleting_an_answer_asks_in_a_dialog_first(browser, live_server, transactional_db):
    author = member(username="答主")
    answer = answer_make(question=question_make(), author=author, body=BODY)
    context = logged_in_context(browser, live_server, author)
    page = context.new_page()
    try:
        page.goto(live_server.url + f"/questions/{answer.question_id}/")
        tools = page.locator(f"#answer-{answer.pk} .mod-tools")
        dialog = tools.locator("dialog")
        tools.get_by_role("link", name="删除").click()
        dialog.wait_for(state="visible")
        assert page.url.endswith(f"/questions/{answer.question_id}/")  # no confirmation page
        dialog.get_by_role("button", name="取消").click()
        dialog.wait_for(state="hidden")
        answer.refresh_from_db()
        assert not answer.is_deleted
        tools.get_by_role("link", name="删除").click()
        dialog.get_by_role("button", name="删除").click()
        page.wait_for_url(f"**/questions/{answer.question_id}/**")
        page.locator(".messages").wait_for()
    finally:
        context.close()
    answer.refresh_from_db()
    assert answer.is_deleted
