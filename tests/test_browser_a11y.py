# ruff: noqa: F811 - `browser` is the fixture imported from tests/test_browser.py
"""Accessibility in Chromium: the starter content's pages under axe, and keyboard-only use.

Every page a browser test visits is audited by axe-core afterwards (tests/a11y.py, run from the
`axe_audit` fixture in tests/conftest.py). This module visits the pages a search engine's visitor
lands on, with the real starter content (tables, display formulas, code), which the other browser
tests do not have; and it votes, accepts, writes an answer and reviews a suggested edit with the
keyboard alone: focus moves with Tab, buttons act on Enter or Space.
"""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from kb.models import Question, Revision, Vote
from kb.services.reputation import reputation_grant
from tests.factories import UserFactory, answer_make, question_make
from tests.kb.moderation_support import member, suggest
from tests.test_browser import WIDTHS, browser  # noqa: F401 - the fixture
from tests.test_browser_moderation import logged_in_context

pytestmark = pytest.mark.browser

# The eight pages of issue 21's audit (also `make audit`'s), plus every starter question.
LANDING_PAGES = (
    "/",
    "/tags/",
    "/tags/llm/",
    "/search/?q=注意力",
    "/accounts/signup/",
    "/accounts/login/",
    "/en/",
)


def test_starter_pages_pass_axe(browser, live_server, transactional_db):
    call_command("load_starter")
    questions = list(Question.objects.order_by("pk").values_list("pk", flat=True))
    assert len(questions) >= 10
    page = browser.new_page(viewport={"width": WIDTHS["desktop"], "height": 900})
    try:
        paths = [*LANDING_PAGES, *(f"/questions/{pk}/" for pk in questions)]
        paths += [f"/en/questions/{questions[0]}/", f"/en/questions/{questions[4]}/"]
        for path in paths:
            response = page.goto(live_server.url + path)
            assert response is not None and response.status == 200, path
    finally:
        page.close()
    # The audit itself runs when the test ends (tests/a11y.py): it fails the test on a violation.


def focus_and_press(page, locator, key: str = "Enter") -> None:
    """Reach an element as a keyboard user would: Tab until it has focus, then press a key."""
    page.locator("body").focus()
    target = locator.element_handle()
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("element => element === document.activeElement", target):
            break
    else:
        raise AssertionError(f"{locator} never took focus from the Tab key")
    page.keyboard.press(key)


def test_vote_accept_answer_and_review_with_the_keyboard_alone(
    browser, live_server, transactional_db
):
    asker = UserFactory(username="asker", display_name="提问者")
    reputation_grant(actor=None, user=asker, amount=30, reason="种子成员")
    question = question_make(author=asker, title="为什么需要 KV Cache?", tags=("llm",))
    answer = answer_make(question=question, body="解码时复用已算出的 K 和 V。")
    # On the asker's own question: its author reviews the suggestion alone.
    suggest(question, by=member(username="热心读者"), body="自回归解码为什么慢?", summary="更简洁")

    context = logged_in_context(browser, live_server, asker)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/questions/{question.pk}/")
        # Vote up the answer with Space, then accept it with Enter.
        focus_and_press(page, page.locator(f"#answer-{answer.pk} .votes__button--up"), "Space")
        # (a locator assertion: the site's Content-Security-Policy forbids wait_for_function's eval)
        expect(page.locator(f"#answer-{answer.pk} [data-vote-score]")).to_have_text("1")
        focus_and_press(page, page.locator(f"#answer-{answer.pk} .accept__button"))
        page.locator(f"#answer-{answer.pk} .accept__button[aria-pressed=true]").wait_for()

        # Write an answer in the editor and send it from the keyboard.
        editor = page.locator("#your-answer textarea[name=body]")
        focus_and_press(page, editor, "End")
        page.keyboard.type("还可以用 GQA 把 KV Cache 再缩小到 $g/h$。")
        page.keyboard.press("Tab")
        submit = page.locator("#your-answer button.button--primary")
        with page.expect_navigation():
            focus_and_press(page, submit)
        assert "再缩小到" in page.locator(".answers").inner_text()

        # Review the suggested edit: approve it with Enter.
        page.goto(f"{live_server.url}/review/edits/")
        focus_and_press(page, page.get_by_role("button", name="通过").first)
        page.wait_for_url("**/review/edits/")
        assert "修改建议已通过" in page.locator(".messages").inner_text()
    finally:
        context.close()
    question.refresh_from_db()
    assert Vote.objects.filter(user=asker, answer=answer, value=1).exists()
    assert question.accepted_answer_id == answer.pk
    assert question.body == "自回归解码为什么慢?"
    assert Revision.objects.filter(answer__question=question, answer__author=asker).exists()
