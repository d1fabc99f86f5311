"""The /data/ page in Chromium, as a dataset builder reads it: at phone and desktop width, in
both languages, the download link works and nothing (the SHA-256, the sample) overflows."""

import hashlib

import pytest
from django.core.management import call_command

from tests.factories import answer_make, question_make
from tests.test_browser import browser  # noqa: F401  (the shared Chromium fixture)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [390, 1280])
def test_data_page_offers_the_dump(browser, live_server, settings, tmp_path, width):  # noqa: F811
    settings.PUBLIC_DUMP_PATH = tmp_path / "mianjing-public.jsonl.gz"
    answer_make(question=question_make(title="数据集里有这个问题吗？"))
    call_command("export_kb", "--public", "--gzip")
    digest = hashlib.sha256(settings.PUBLIC_DUMP_PATH.read_bytes()).hexdigest()
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
    page = context.new_page()
    for prefix, heading in (("", "面经数据集"), ("/en", "The Mianjing dataset")):
        page.goto(f"{live_server.url}{prefix}/data/")
        assert page.locator("h1").inner_text() == heading
        assert page.locator(".data-hash").inner_text() == digest
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{prefix}/data/ overflows by {overflow}px at {width}px"
        with page.expect_download() as download:
            page.click(".data-page a.button")
        assert download.value.suggested_filename == "mianjing-public.jsonl.gz"
    context.close()
