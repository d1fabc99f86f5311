"""Contributing, clicked through in Debian's Chromium (same launch and skip rules as
tests/test_browser.py): sign up → ask → answer → edit → diff → roll back, and two people editing
the same answer at once (a clean merge, then a conflict that keeps the user's text).

Screenshots at desktop and phone widths go to test-output/ for people to look at.
"""

import re

import pytest
from django.core import mail

from kb.models import Answer, Revision
from tests.factories import UserFactory, answer_make, moderator_create, question_make
from tests.test_browser import OUTPUT_DIR, WIDTHS, browser  # noqa: F401  (the shared fixture)

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
PARAGRAPHS = [
    "第一段：MQA 让所有查询头共享一组 K/V，KV Cache 缩小为原来的 $1/h$。",
    "第二段：GQA 把查询头分成 $g$ 组，每组共享一组 K/V。",
    "第三段：LLaMA 2 70B 用的是 GQA。",
]


def shot(page, name: str) -> None:
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / f"{name}.png"), full_page=True)


def fits(page, width: int) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


def new_page(browser, device: str):  # noqa: F811
    context = browser.new_context(viewport={"width": WIDTHS[device], "height": 900})
    return context, context.new_page()


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main form.form button[type=submit]").click()
    page.wait_for_url(f"{base_url}/")


@pytest.mark.parametrize("device", list(WIDTHS))
def test_sign_up_ask_answer_edit_see_the_diff_and_roll_back(
    browser,  # noqa: F811
    live_server,
    transactional_db,
    device,
):
    width = WIDTHS[device]
    base = live_server.url
    context, page = new_page(browser, device)
    try:
        # Sign up with a Chinese username; the mailed link logs in.
        page.goto(f"{base}/")
        page.locator(".site-account").get_by_role("link", name="注册").click()
        page.fill("#id_username", f"韩梅梅{device}")
        page.fill("#id_email", f"meimei-{device}@example.com")
        page.fill("#id_password", "多头注意力-MHA-2024")
        page.fill("#id_password_again", "多头注意力-MHA-2024")
        shot(page, f"contribute-signup-{device}")
        assert fits(page, width)
        page.get_by_role("button", name="创建账号").click()
        page.wait_for_url(f"{base}/accounts/signup/sent/")
        [message] = [m for m in mail.outbox if m.to == [f"meimei-{device}@example.com"]]
        page.goto(re.search(r"https?://\S+", message.body).group(0))
        page.wait_for_url(f"{base}/")
        assert "欢迎你" in page.locator(".messages").inner_text()

        # Ask: the live preview renders the formula with the server's renderer.
        page.locator(".site-account__ask").click()
        page.fill("#id_title", "MQA 和 GQA 有什么区别？")
        page.fill("#id_body", "请比较 KV Cache 的大小：$2 \\cdot n \\cdot d$。")
        page.fill("#id_tags", "attention，llm")
        page.locator(".editor__preview-body math").wait_for(state="visible")
        shot(page, f"contribute-ask-{device}")
        assert fits(page, width)
        page.get_by_role("button", name="发布问题").click()
        page.wait_for_url(re.compile(r".*/questions/\d+/.*"))
        assert page.locator("h1").inner_text() == "MQA 和 GQA 有什么区别？"
        assert "你的问题已发布。" in page.locator(".messages").inner_text()

        # Answer on the question page.
        page.fill("#id_body", "\n\n".join(PARAGRAPHS))
        page.get_by_role("button", name="发布回答").click()
        page.wait_for_selector(".answer .post-body math")
        answer = Answer.objects.get()
        assert "你的回答已发布。" in page.locator(".messages").inner_text()
        shot(page, f"contribute-question-{device}")
        assert fits(page, width)

        # Edit it with a summary.
        page.locator(f"#answer-{answer.pk}").get_by_role("link", name="编辑").click()
        assert page.locator("input[name=base_revision]").input_value() == "1"
        page.fill("#id_body", "\n\n".join([PARAGRAPHS[0].replace("$1/h$", "$1/n_h$"),
                                           *PARAGRAPHS[1:]]))  # fmt: skip
        page.fill("#id_summary", "修正公式里的头数记号")
        page.locator(".editor__preview-body msub").wait_for()  # the live preview caught up
        shot(page, f"contribute-edit-{device}")
        page.get_by_role("button", name="保存修改").click()
        page.wait_for_selector(".messages")
        assert "你的修改已保存（第 2 版）" in page.locator(".messages").inner_text()

        # History → compare with previous → the diff, inline then side by side.
        page.locator(f"#answer-{answer.pk}").get_by_role("link", name="编辑过 1 次").click()
        page.get_by_role("link", name="与上一版比较").click()
        page.wait_for_url(re.compile(r".*/answers/\d+/diff/\?from=1&to=2"))
        assert page.locator(".diff-inline del.diff-math").inner_text() == "$1/h$"
        assert page.locator(".diff-inline ins.diff-math").inner_text() == "$1/n_h$"
        assert "修正公式里的头数记号" in page.locator(".diff-meta").inner_text()
        shot(page, f"contribute-diff-inline-{device}")
        assert fits(page, width)
        page.get_by_role("link", name="并排").click()
        page.locator(".diff-table .diff-row--replace").wait_for()
        shot(page, f"contribute-diff-side-{device}")
        assert fits(page, width)

        # Roll back to revision 1 from the history page, with a reason.
        page.get_by_role("link", name="全部版本").click()
        revision_one = page.locator("#revision-1")
        revision_one.locator("summary", has_text="回滚到这一版").click()
        revision_one.locator("input[name=summary]").fill("原来的记号更常见")
        shot(page, f"contribute-history-{device}")
        assert fits(page, width)
        revision_one.get_by_role("button", name="回滚到第 1 版").click()
        page.wait_for_selector(".messages")
        assert "已回滚：第 3 版恢复了第 1 版" in page.locator(".messages").inner_text()
        answer.refresh_from_db()
        assert answer.body == "\n\n".join(PARAGRAPHS) and answer.revision_count == 3
        assert Revision.objects.get(answer=answer, number=3).summary == "原来的记号更常见"
    finally:
        context.close()


@pytest.fixture
def answer_to_fight_over(transactional_db):
    author = UserFactory(username="作者", display_name="作者")
    moderator_create(username="版主", display_name="版主")
    question = question_make(title="GQA 的 KV Cache 有多大？", tags=("attention",))
    return answer_make(question=question, author=author, body="\n\n".join(PARAGRAPHS))


def open_edit(page, base_url: str, answer) -> None:
    page.goto(f"{base_url}/answers/{answer.pk}/edit/")


def change(page, old: str, new: str) -> str:
    text = page.locator("#id_body").input_value().replace(old, new)
    page.fill("#id_body", text)
    return text


@pytest.mark.parametrize("device", list(WIDTHS))
def test_two_people_editing_one_answer_merge_then_conflict(
    browser,  # noqa: F811
    live_server,
    answer_to_fight_over,
    device,
):
    answer, base, width = answer_to_fight_over, live_server.url, WIDTHS[device]
    author_context, author = new_page(browser, device)
    moderator_context, moderator = new_page(browser, device)
    try:
        log_in(author, base, "作者")
        log_in(moderator, base, "版主")

        # Both start from revision 1; they change different paragraphs: merged.
        open_edit(author, base, answer)
        open_edit(moderator, base, answer)
        change(moderator, "第一段：", "第一段（版主补充）：")
        moderator.get_by_role("button", name="保存修改").click()
        moderator.wait_for_selector(".messages")
        change(author, "LLaMA 2 70B", "LLaMA 2 70B 和 Mistral 7B")
        author.get_by_role("button", name="保存修改").click()
        author.wait_for_selector(".messages")
        assert "你们的改动没有重叠" in author.locator(".messages").inner_text()
        answer.refresh_from_db()
        assert "版主补充" in answer.body and "Mistral 7B" in answer.body

        # Both start from revision 3; both change the second paragraph: a conflict.
        open_edit(author, base, answer)
        open_edit(moderator, base, answer)
        change(moderator, "每组共享一组 K/V", "每组共享一组 K/V，组数 $g$ 介于 1 和 $h$ 之间")
        moderator.get_by_role("button", name="保存修改").click()
        moderator.wait_for_selector(".messages")
        mine = change(author, "第二段：GQA", "第二段：GQA（分组查询注意力）")
        author.fill("#id_summary", "补充全称")
        author.get_by_role("button", name="保存修改").click()
        author.wait_for_selector(".conflict")
        assert "有人在你编辑时修改了这篇内容" in author.locator(".conflict").inner_text()
        assert author.locator("#id_body").input_value() == mine  # nothing typed is lost
        assert author.locator("#id_summary").input_value() == "补充全称"
        assert author.locator("input[name=base_revision]").input_value() == "4"
        assert "<<<<<<<" in author.locator("#merged-text").input_value()
        assert fits(author, width)
        shot(author, f"contribute-conflict-{device}")

        # The merge can be put into the editor; resolve it and save on top of revision 4.
        author.get_by_role("button", name="把合并结果放进编辑框").click()
        assert "<<<<<<<" in author.locator("#id_body").input_value()
        resolved = "\n\n".join(
            [
                "第一段（版主补充）：MQA 让所有查询头共享一组 K/V，KV Cache 缩小为原来的 $1/h$。",
                "第二段：GQA（分组查询注意力）把查询头分成 $g$ 组，每组共享一组 K/V，"
                "组数 $g$ 介于 1 和 $h$ 之间。",
                "第三段：LLaMA 2 70B 和 Mistral 7B 用的是 GQA。",
            ]
        )
        author.fill("#id_body", resolved)
        author.get_by_role("button", name="保存修改").click()
        author.wait_for_selector(".messages")
        assert "你的修改已保存（第 5 版）" in author.locator(".messages").inner_text()
        answer.refresh_from_db()
        assert answer.body == resolved
    finally:
        author_context.close()
        moderator_context.close()


def test_contributing_pages_fit_a_phone_screen(browser, live_server, answer_to_fight_over):  # noqa: F811
    context, page = new_page(browser, "phone")
    try:
        log_in(page, live_server.url, "作者")
        answer = answer_to_fight_over
        for path, name in (
            ("/questions/ask/", "ask"),
            (f"/answers/{answer.pk}/edit/", "edit"),
            (f"/questions/{answer.question_id}/", "question"),
            ("/accounts/settings/", "settings"),
            ("/accounts/tokens/", "tokens"),
            ("/accounts/password/change/", "password"),
        ):
            response = page.goto(live_server.url + path)
            assert response is not None and response.status == 200, path
            assert fits(page, WIDTHS["phone"]), path
            if name in ("settings", "question"):
                shot(page, f"contribute-{name}-phone")
        # A new token: its key is shown once, in a field that fits the screen.
        page.goto(live_server.url + "/accounts/tokens/")
        page.fill("#id_name", "笔记本上的脚本")
        page.get_by_role("button", name="创建令牌").click()
        key = page.locator("#new-key").input_value()
        assert len(key) > 30 and fits(page, WIDTHS["phone"])
        shot(page, "contribute-tokens-phone")
    finally:
        context.close()
