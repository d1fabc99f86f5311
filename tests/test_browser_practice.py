"""Practice mode in Debian's Chromium (same launch and skip rules as tests/test_browser.py), at
phone and desktop widths: a member sees "1 due" in the header, practises the due question with
the keyboard (Space shows the answer, 3 grades it "good"), gets the next question, and the due
count is gone; a visitor practises with the schedule in localStorage and brings it into their
account when they log in. Screenshots go to test-output/ for people to look at."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kb.services.questions import question_create
from practice.models import PracticeCard
from practice.services import practice_review
from tests.factories import UserFactory, answer_make
from tests.test_browser import WIDTHS, browser  # noqa: F401  (the shared fixture)
from tests.test_browser_contribute import fits, log_in, new_page, shot

pytestmark = pytest.mark.browser


def practisable(title: str, points: list[str], difficulty: str):
    question = question_create(
        actor=UserFactory(),
        title=title,
        body="请在面试中回答这个问题,最好写出公式。",
        tags=["llm", "attention"],
        interview={
            "difficulty": difficulty,
            "short_answer": "缩放让点积的方差保持为 1,softmax 不会饱和。",
            "key_points": points,
            "common_mistakes": ["以为缩放是为了防止数值溢出"],
            "follow_ups": [{"text": "掩码应该加在 softmax 之前还是之后?", "question_id": None}],
        },
    )
    answer_make(
        question=question,
        body="若 $q,k$ 的分量独立、均值 0、方差 1,则 $q\\cdot k$ 的方差是 $d_k$。",
    )
    return question


@pytest.fixture
def questions(transactional_db):
    due = practisable(
        "为什么注意力要除以 √d_k?", ["$\\mathrm{Var}(q\\cdot k)=d_k$", "softmax 饱和"], "basic"
    )
    new = practisable(
        "MQA 和 GQA 省了多少 KV Cache?", ["GQA 缩小为 $g/h$", "MQA 是 $g=1$"], "intermediate"
    )
    return {"due": due, "new": new}


def due_badge(page):
    return page.locator(".site-nav [data-practice-due]")


@pytest.mark.parametrize("device", list(WIDTHS))
def test_member_practises_a_due_question_with_the_keyboard(
    browser,  # noqa: F811
    live_server,
    questions,
    device,
):
    base, width = live_server.url, WIDTHS[device]
    learner = UserFactory(username="learner")
    practice_review(actor=learner, question_id=questions["due"].pk, grade="easy",
                    now=timezone.now() - timedelta(days=30))  # fmt: skip
    context, page = new_page(browser, device)
    try:
        log_in(page, base, "learner")
        assert due_badge(page).inner_text().startswith("1")
        page.goto(f"{base}/practice/?tags=llm")
        assert page.locator("#practice-title").inner_text() == questions["due"].title
        assert not page.locator(".practice-card__revealed").is_visible()
        assert fits(page, width)
        shot(page, f"practice-question-{device}")

        page.keyboard.press(" ")
        assert page.locator(".interview__list--points").is_visible()
        assert page.locator(".interview math").count() >= 1  # the key point's formula
        assert fits(page, width)
        shot(page, f"practice-revealed-{device}")

        page.keyboard.press("3")
        # The address does not change (the grade posts back to the same page): wait for the
        # next question itself, not for the URL.
        expect(page.locator("#practice-title")).to_have_text(questions["new"].title)
        assert due_badge(page).count() == 0  # the due count changed: nothing is due now
        card = PracticeCard.objects.get(user=learner, question=questions["due"])
        assert card.review_count == 2 and card.due > timezone.now()

        # Typing in the answer box does not grade or reveal.
        page.locator("#practice-answer").fill("")
        page.locator("#practice-answer").type("缩放 1 2 3")
        assert not page.locator(".practice-card__revealed").is_visible()
        assert PracticeCard.objects.filter(user=learner).count() == 1

        page.goto(f"{base}/practice/progress/")
        assert page.locator(".progress-chart svg").is_visible()
        assert fits(page, width)
        shot(page, f"practice-progress-{device}")

        page.goto(f"{base}/en/practice/sheet/?tags=llm&count=2&seed=7")
        assert page.locator(".sheet__answers").is_visible()
        assert fits(page, width)
        shot(page, f"practice-sheet-{device}")
    finally:
        context.close()


@pytest.mark.parametrize("device", list(WIDTHS))
def test_visitor_practises_in_the_browser_and_keeps_it_at_login(
    browser,  # noqa: F811
    live_server,
    questions,
    device,
):
    base = live_server.url
    UserFactory(username="newcomer")
    context, page = new_page(browser, device)
    try:
        page.goto(f"{base}/practice/")
        first = page.locator("#practice-title").inner_text()
        page.keyboard.press(" ")
        page.keyboard.press("4")  # easy
        # Locator assertions, not wait_for_function: the CSP forbids the eval that needs.
        expect(page.locator("#practice-title")).not_to_have_text(first)
        stored = page.evaluate("JSON.parse(localStorage.getItem('mianjing.practice.v1'))")
        assert len(stored["cards"]) == 1
        (card,) = stored["cards"].values()
        assert card["state"] == 2 and card["reviews"][0]["grade"] == "easy"
        assert not PracticeCard.objects.exists()  # nothing stored on the site

        log_in(page, base, "newcomer")
        expect(page.locator("html")).to_have_attribute("data-practice-imported", "1")
        imported = PracticeCard.objects.get(user__username="newcomer")
        assert imported.question.title == first and imported.state == 2
        assert page.evaluate("localStorage.getItem('mianjing.practice.v1')") is None
    finally:
        context.close()
