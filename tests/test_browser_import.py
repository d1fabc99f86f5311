# ruff: noqa: F811 - `browser` is the fixture imported from tests/test_browser.py
"""The import flow a member clicks through, in Debian's Chromium driven by Playwright: paste an
article, read the plan, adjust it, import, see the unverified answers, undo. Screenshots of the
plan page at phone and desktop widths go to test-output/ (gitignored)."""

from pathlib import Path

import pytest

from kb.models import Answer, ArticleImport, Question
from kb.rules import rule
from tests.factories import question_make
from tests.kb.moderation_support import member
from tests.test_browser import OUTPUT_DIR, WIDTHS, browser  # noqa: F401 - the fixture
from tests.test_browser_moderation import logged_in_context

pytestmark = pytest.mark.browser

ARTICLE = (
    Path(__file__).resolve().parent / "kb" / "articles" / "corpus" / "llm_vlm_common.txt"
).read_text(encoding="utf-8")


def test_member_imports_an_article_adjusting_the_plan(browser, live_server, transactional_db):
    existing = question_make(title="LayerNorm 与 BatchNorm 有什么区别？")
    importer = member(rule("PRIVILEGE_IMPORT"), username="导入者")
    context = logged_in_context(browser, live_server, importer)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/import/")
        page.get_by_label("粘贴文章").fill(ARTICLE)
        page.get_by_label("来源网址").fill("https://blog.example.com/llm-vlm")
        page.get_by_role("button", name="查看导入计划").click()
        page.wait_for_selector("#import-plan")
        entries = page.locator("[data-entry]")
        assert entries.count() == 16
        assert page.locator('[data-count="new"]').inner_text() == "15"
        assert page.locator('[data-count="add"]').inner_text() == "1"
        match = entries.nth(3).locator(".import-entry__match").inner_text()
        assert f"与 #{existing.pk} 相同" in match
        # JavaScript keeps the counts in step with the choices.
        entries.nth(0).get_by_label("跳过").check()
        assert page.locator('[data-count="skip"]').inner_text() == "1"
        assert page.locator('[data-count="new"]').inner_text() == "14"
        entries.nth(1).locator(".import-entry__title").fill(
            "Self-Attention 与 Cross-Attention 的区别"
        )
        for device, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 900})
            OUTPUT_DIR.mkdir(exist_ok=True)
            page.screenshot(path=str(OUTPUT_DIR / f"import-plan-{device}.png"), full_page=False)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.get_by_role("button", name="导入", exact=True).click()
        page.wait_for_url("**/imports/*/")
        assert (
            "已导入：新建 14 个问题，向已有问题添加 1 个回答。"
            in page.locator(".messages").inner_text()
        )
        article_import = ArticleImport.objects.get()
        assert "Self-Attention 与 Cross-Attention 的区别" in set(
            Question.objects.filter(pk__in=article_import.question_ids).values_list(
                "title", flat=True
            )
        )
        # The added answer is unverified, with its provenance under it.
        added = Answer.objects.get(question=existing)
        page.goto(live_server.url + f"/questions/{existing.pk}/")
        answer = page.locator(f"#answer-{added.pk}")
        assert "待核实" in answer.locator(".banner--unverified").inner_text()
        assert "https://blog.example.com/llm-vlm" in answer.locator(".provenance a").get_attribute(
            "href"
        )
        # Undo the whole import (the page asks first).
        page.goto(live_server.url + f"/imports/{article_import.pk}/")
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="撤销整次导入").click()
        page.wait_for_selector(".messages")
        assert "导入已撤销" in page.locator(".messages").inner_text()
    finally:
        context.close()
    article_import.refresh_from_db()
    assert article_import.undone_at is not None
    assert Answer.objects.get(pk=added.pk).is_deleted
