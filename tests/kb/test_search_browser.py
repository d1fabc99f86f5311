"""static/kb/similar.js and the search page in Chromium (Playwright), against a live server."""

import pytest

from tests.factories import question_make
from tests.test_browser import WIDTHS, browser  # noqa: F401 (the `browser` fixture)

pytestmark = pytest.mark.browser


def test_similar_questions_appear_while_a_title_is_typed(request, live_server, transactional_db):
    chromium = request.getfixturevalue("browser")
    question = question_make(title="LayerNorm 和 RMSNorm 有什么区别")
    question_make(title="RAG 的流程是什么", body="检索")
    page = chromium.new_page()
    try:
        page.goto(live_server.url + "/search/")
        # The ask form's title input, as that page will mark it up:
        page.evaluate(
            """() => {
                const input = document.createElement("input");
                input.id = "title";
                input.setAttribute("data-similar-url", "/api/v1/search/similar/");
                input.setAttribute("data-similar-heading", "可能重复的问题");
                document.querySelector("main").prepend(input);
            }"""
        )
        page.add_script_tag(url=live_server.url + "/static/kb/similar.js")
        page.fill("#title", "RMSNorm和LayerNorm的区别<b>")
        link = page.wait_for_selector(".similar-questions a", timeout=5000)
        assert link.inner_text() == question.title
        assert link.get_attribute("href").startswith(f"/questions/{question.pk}/")
        assert page.inner_text(".similar-questions__heading") == "可能重复的问题"
        assert page.locator(".similar-questions li").count() == 1
        page.fill("#title", "ab")  # too short: the list goes away
        page.wait_for_selector(".similar-questions", state="hidden", timeout=5000)
    finally:
        page.close()


def test_search_page_with_its_help_fits_a_phone_screen(request, live_server, transactional_db):
    chromium = request.getfixturevalue("browser")
    question_make(title="注意力机制的计算复杂度", body="O(n²) 的 RMSNorm " * 40)
    context = chromium.new_context(viewport={"width": WIDTHS["phone"], "height": 844})
    page = context.new_page()
    try:
        for path in ("/search/", "/search/?q=注意力機制", "/search/?q=rmsnorm+is:answer"):
            response = page.goto(live_server.url + path)
            assert response is not None and response.status == 200, path
            assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS["phone"], path
        page.goto(live_server.url + "/search/?q=注意力機制")
        assert page.inner_text(".search-result h2 mark") == "注意力机制"
    finally:
        context.close()


def test_the_ask_form_suggests_tags_the_title_names_and_adds_one_on_click(
    request, live_server, transactional_db
):
    from kb.services.tags import tag_upsert

    chromium = request.getfixturevalue("browser")
    tag_upsert(name="attention", aliases=["注意力"])
    tag_upsert(name="rag", aliases=["检索增强生成"])
    page = chromium.new_page()
    try:
        page.goto(live_server.url + "/search/")
        page.evaluate(
            """() => {
                const form = document.createElement("form");
                form.innerHTML = '<input id="title" data-similar-url="/api/v1/search/similar/" ' +
                    'data-similar-tags-heading="建议的标签："><input name="tags" value="llm">';
                document.querySelector("main").prepend(form);
            }"""
        )
        page.add_script_tag(url=live_server.url + "/static/kb/similar.js")
        page.fill("#title", "自注意力的计算复杂度和 RAG 的关系")
        page.wait_for_selector(".similar-tags button", timeout=5000)
        assert page.locator(".similar-tags button").all_inner_texts() == ["attention", "rag"]
        page.click(".similar-tags button >> text=attention")
        assert page.input_value("input[name=tags]") == "llm, attention"
        assert page.locator(".similar-tags button").all_inner_texts() == ["rag"]
    finally:
        page.close()


def test_partial_results_fit_a_phone_screen(request, live_server, transactional_db):
    chromium = request.getfixturevalue("browser")
    question_make(
        title="分布式计算的通信开销有多大", body="| 并行 | 通信 |\n|---|---|\n| 张量 | 多 |"
    )
    context = chromium.new_context(viewport={"width": WIDTHS["phone"], "height": 844})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/search/?q=量子计算 光刻机")
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS["phone"]
        assert page.inner_text(".search-notice--partial") == "没有同时包含所有词语的结果"
        assert page.inner_text("#partial-matches") == "部分匹配"
        assert "缺少" in page.inner_text(".search-result__missing")
    finally:
        context.close()
