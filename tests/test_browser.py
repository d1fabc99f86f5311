"""A person's path through the site, in Debian's Chromium driven by Playwright.

home → a question → its accepted answer with a formula rendered as MathML. Screenshots of the
question page at desktop and phone widths go to test-output/ (gitignored) for people to look at.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings

from kb.models import Question
from tests.a11y import AuditedBrowser
from tests.factories import UserFactory, answer_make, question_make

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # A Chinese browser, as most readers have: an English one is sent to /en/ (tested on its own).
    "--accept-lang=zh-CN,zh",
]
OUTPUT_DIR = Path(settings.BASE_DIR) / "test-output"
WIDTHS = {"desktop": 1280, "phone": 390}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium to run the browser tests."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django would refuse its ORM calls.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            # Its contexts record the pages they visit, for the axe audit (tests/a11y.py).
            yield AuditedBrowser(chromium)
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def question_with_formula(transactional_db) -> Question:
    author = UserFactory(username="李雷", display_name="李雷")
    question = question_make(
        author=author,
        title="RMSNorm 和 LayerNorm 有什么区别?",
        body="请写出两者的公式,并说明 RMSNorm 省掉了什么计算。",
        tags=("normalization", "llm"),
    )
    answer = answer_make(
        question=question,
        body=(
            "RMSNorm 去掉了均值中心化:\n\n"
            "$$\n\\mathrm{RMSNorm}(x) = \\gamma \\odot "
            "\\frac{x}{\\sqrt{\\frac{1}{d}\\sum_{i=1}^{d} x_i^2 + \\epsilon}}\n$$\n\n"
            "```python\nx * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)\n```\n"
        ),
    )
    Question.objects.filter(pk=question.pk).update(accepted_answer=answer)
    question_make(title="什么是 Pre-Norm 与 Post-Norm?", tags=("normalization",))
    question.refresh_from_db()
    return question


@pytest.mark.parametrize("device", list(WIDTHS))
def test_reader_opens_a_question_and_sees_a_rendered_formula(
    browser, live_server, question_with_formula, device
):
    OUTPUT_DIR.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": WIDTHS[device], "height": 900})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/")
        assert page.locator("html").get_attribute("lang") == "zh-Hans"
        page.get_by_role("link", name=question_with_formula.title).click()
        page.wait_for_url(f"**/questions/{question_with_formula.pk}/**")
        assert page.locator("h1").inner_text() == question_with_formula.title

        answer = page.locator(f"#answer-{question_with_formula.accepted_answer_id}")
        assert "已采纳的回答" in answer.inner_text()
        formula = answer.locator(".math-block math")
        formula.wait_for(state="visible")
        box = formula.bounding_box()
        assert box is not None and box["width"] > 50 and box["height"] > 20
        # Nothing pushes the page wider than the screen: wide content scrolls in its own box.
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[device]

        page.screenshot(path=str(OUTPUT_DIR / f"question-{device}.png"), full_page=True)
    finally:
        context.close()


def test_keyboard_reader_can_skip_to_content(browser, live_server, question_with_formula):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/")
        page.keyboard.press("Tab")
        skip = page.locator(".skip-link")
        assert skip.evaluate("element => element === document.activeElement")
        assert skip.is_visible()
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
    finally:
        context.close()


def test_pages_fit_a_phone_screen(browser, live_server, question_with_formula):
    context = browser.new_context(viewport={"width": WIDTHS["phone"], "height": 844})
    page = context.new_page()
    try:
        for path in (
            "/",
            "/tags/",
            "/tags/normalization/",
            "/users/李雷/",
            "/search/?q=RMSNorm",
            f"/questions/{question_with_formula.pk}/revisions/",
            "/accounts/login/",
            "/en/",
        ):
            response = page.goto(live_server.url + path)
            assert response is not None and response.status == 200, path
            assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS["phone"], path
    finally:
        context.close()
