"""Votes and accepts, clicked through in Debian's Chromium (same launch and skip rules as
tests/test_browser.py): a member with enough reputation upvotes an answer in place (the score
changes without a reload), clicks again to withdraw the vote, is told why a button is refused and
when the daily limit ends; an ended session gets a link to log in; the asker accepts the answer.

Screenshots at desktop and phone widths go to test-output/ for people to look at.
"""

import re

import pytest
from playwright.sync_api import expect

from kb.models import Vote
from kb.services.reputation import reputation_grant
from kb.services.votes import vote_cast
from kb.templatetags.kb_pages import question_url
from tests.factories import UserFactory, answer_make, question_make
from tests.test_browser import WIDTHS, browser  # noqa: F401  (the shared fixture)
from tests.test_browser_contribute import fits, log_in, new_page, shot

pytestmark = pytest.mark.browser


@pytest.fixture
def discussion(transactional_db, settings):
    settings.MIANJING = {**settings.MIANJING, "VOTES_PER_DAY": 2}
    asker = UserFactory(username="asker", display_name="提问者")
    answerer = UserFactory(username="answerer", display_name="回答者")
    voter = UserFactory(username="voter", display_name="投票者")
    reputation_grant(actor=None, user=voter, amount=30, reason="种子成员")
    question = question_make(
        author=asker, title="GQA 的 KV Cache 比 MHA 小多少?", tags=("attention", "llm")
    )
    answer = answer_make(
        question=question,
        author=answerer,
        body="GQA 把 $h$ 个查询头分成 $g$ 组,KV Cache 缩小为 MHA 的 $g/h$。",
    )
    other = answer_make(question=question, body="MQA 是 $g = 1$ 的特例。")
    return {"question": question, "answer": answer, "other": other, "voter": voter}


def vote_button(page, answer, direction: str):
    return page.locator(f"#answer-{answer.pk} .votes__button--{direction}")


def score(page, answer):
    return page.locator(f"#answer-{answer.pk} [data-vote-score]")


def status(page, answer):
    return page.locator(f"#answer-{answer.pk} [data-vote-status]")


@pytest.mark.parametrize("device", list(WIDTHS))
def test_upvote_in_place_withdraw_refusals_limit_and_accept(
    browser,  # noqa: F811
    live_server,
    discussion,
    device,
):
    base, width = live_server.url, WIDTHS[device]
    question, answer, other = discussion["question"], discussion["answer"], discussion["other"]
    url = f"{base}{question_url(question)}"
    context, page = new_page(browser, device)
    try:
        log_in(page, base, "voter")
        page.goto(url)
        page.evaluate("window.notReloaded = true")

        # Upvote in place: the score and the pressed state change, the page stays.
        up = vote_button(page, answer, "up")
        assert up.get_attribute("aria-pressed") == "false"
        up.click()
        expect(page.locator(f"#answer-{answer.pk} [data-vote-score]")).to_have_text(  # CSP: no eval
            "1"
        )
        assert up.get_attribute("aria-pressed") == "true"
        assert Vote.objects.get(answer=answer).value == 1
        shot(page, f"votes-upvoted-{device}")
        assert fits(page, width)

        # Clicking the pressed button withdraws the vote.
        up.click()
        expect(page.locator(f"#answer-{answer.pk} [data-vote-score]")).to_have_text(  # CSP: no eval
            "0"
        )
        assert up.get_attribute("aria-pressed") == "false"
        assert not Vote.objects.filter(answer=answer).exists()

        # Voting down needs more reputation: the button says why, and so does the live region.
        down = vote_button(page, answer, "down")
        assert down.get_attribute("aria-disabled") == "true"
        assert down.get_attribute("title") == "投反对票需要 125 声望。"
        down.click(force=True)  # aria-disabled: Playwright would wait for it to be enabled
        assert status(page, answer).inner_text().startswith("投反对票需要 125 声望。")
        shot(page, f"votes-refused-{device}")
        assert fits(page, width)
        page.keyboard.press("Escape")
        assert status(page, answer).inner_text() == ""

        # The daily limit (2 here): the third new vote is refused with the time it ends.
        vote_cast(actor=discussion["voter"], post=question, value=1)
        vote_button(page, other, "up").click()
        expect(page.locator(f"#answer-{other.pk} [data-vote-score]")).to_have_text(  # CSP: no eval
            "1"
        )
        up.click()
        status(page, answer).get_by_text("你今天的票已用完").wait_for()
        assert score(page, answer).inner_text() == "0"
        assert up.get_attribute("aria-pressed") == "false"
        shot(page, f"votes-limit-{device}")
        assert fits(page, width)
        assert page.evaluate("window.notReloaded") is True

        # The session ends: the API answers 401 and the live region links to the login page.
        context.clear_cookies()
        vote_button(page, other, "up").click()
        link = status(page, other).get_by_role("link", name="登录后投票")
        link.wait_for()
        assert link.get_attribute("href").endswith(f"%23answer-{other.pk}")
        assert Vote.objects.filter(answer=other).count() == 1
    finally:
        context.close()

    # The asker accepts the answer in place; on the next load it is listed first.
    context, page = new_page(browser, device)
    try:
        log_in(page, base, "asker")
        page.goto(url)
        assert page.locator("form.accept").count() == 2
        accept = page.locator(f"#answer-{answer.pk} .accept__button")
        assert accept.get_attribute("aria-pressed") == "false"
        accept.click()
        page.locator(f"#answer-{answer.pk}.answer--accepted .accepted-label").wait_for()
        assert accept.get_attribute("aria-pressed") == "true"
        question.refresh_from_db()
        assert question.accepted_answer_id == answer.pk
        page.reload()
        first = page.locator("article.answer").first
        assert first.get_attribute("id") == f"answer-{answer.pk}"
        shot(page, f"votes-accepted-{device}")
        assert fits(page, width)

        # The answerer's page shows the ledger: the accept (+15) on top.
        page.goto(f"{base}/users/answerer/")
        row = page.locator(".ledger__row").first
        assert re.search(r"\+15\s*回答被采纳", row.inner_text())
        shot(page, f"votes-user-{device}")
        assert fits(page, width)
    finally:
        context.close()
