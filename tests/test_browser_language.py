"""The language choice as a person makes it, in Debian's Chromium: an English browser lands on the
English site; choosing 中文 keeps Chinese for unprefixed links, choosing English keeps English."""

import pytest

from tests.factories import question_make
from tests.test_browser import browser  # noqa: F401  (the shared Chromium fixture)

pytestmark = pytest.mark.browser


def test_language_is_picked_from_the_browser_then_kept_as_chosen(browser, live_server):  # noqa: F811
    question = question_make(title="RoPE 的外推为什么困难？")
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 800})
    page = context.new_page()
    page.goto(f"{live_server.url}/questions/{question.pk}/")
    assert page.url == f"{live_server.url}/en/questions/{question.pk}/"
    assert page.locator("html").get_attribute("lang") == "en"

    page.click("a.language-switch")  # 中文
    assert page.url == f"{live_server.url}/questions/{question.pk}/"
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    page.goto(f"{live_server.url}/tags/")  # a shared link without /en/: still Chinese
    assert page.url == f"{live_server.url}/tags/"
    assert page.locator("h1").inner_text() == "标签"

    page.click("a.language-switch")  # English
    assert page.url == f"{live_server.url}/en/tags/"
    page.goto(f"{live_server.url}/questions/{question.pk}/")
    assert page.url == f"{live_server.url}/en/questions/{question.pk}/"
    context.close()
