"""The inbox loop clicked through in Debian's Chromium (same launch and skip rules as
tests/test_browser.py): one member asks, another answers and comments (completing @name as they
type), the asker sees the badge and the inbox entry and lands on the answer; a member watches a
tag and finds its question under "my tags"; a member unsubscribes from a mail's link.

Screenshots at phone and desktop widths go to /tmp/i13-shots/ for people to look at.
"""

import re
from pathlib import Path

import pytest
from django.core import mail

from kb.models import Answer
from notifications.mail import notifications_send
from notifications.models import Notification, NotificationSettings
from notifications.services import notification_settings_set
from tests.factories import TagFactory, UserFactory, answer_make, question_make
from tests.test_browser import WIDTHS, browser  # noqa: F401  (the shared fixture)
from tests.test_browser_contribute import fits, log_in, new_page

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/i13-shots")  # noqa: S108 (screenshots to look at, not secrets)


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("device", list(WIDTHS))
def test_ask_answer_see_the_badge_and_the_inbox_entry(
    browser,  # noqa: F811
    live_server,
    transactional_db,
    device,
):
    base, width = live_server.url, WIDTHS[device]
    UserFactory(username="asker", display_name="提问者")
    UserFactory(username="answerer", display_name="回答者")
    asker_context, asker = new_page(browser, device)
    answerer_context, answerer = new_page(browser, device)
    try:
        log_in(asker, base, "asker")
        assert asker.locator(".inbox-badge").count() == 0
        asker.locator(".site-account__ask").click()
        asker.fill("#id_title", "KV Cache 的显存怎么估算？")
        asker.fill("#id_body", "序列长度 $n$、层数 $L$、隐藏维度 $d$ 时，KV Cache 占多少显存？")
        asker.fill("#id_tags", "llm")
        asker.get_by_role("button", name="发布问题").click()
        asker.wait_for_url(re.compile(r".*/questions/\d+/.*"))
        question_url = asker.url
        assert asker.locator(".follow-controls").get_by_role("button", name="已关注").count() == 1

        log_in(answerer, base, "answerer")
        answerer.goto(question_url)
        answerer.fill(
            "#id_body", "每层存 K 和 V：$2 \\cdot n \\cdot d$ 个数，再乘层数 $L$ 和字节数。"
        )
        answerer.get_by_role("button", name="发布回答").click()
        answerer.wait_for_selector(".answer .post-body math")
        answer = Answer.objects.get()

        # A comment naming the asker, completed from the page's participants as one types.
        answerer.locator(".question .comment-form summary").click()
        box = answerer.locator(".question .comment-form textarea")
        box.click()
        box.press_sequentially("谢谢提问 @as")
        option = answerer.locator(".question .mention-list__option", has_text="@asker")
        option.wait_for()
        option.click()
        assert box.input_value() == "谢谢提问 @asker "
        box.press_sequentially("补充：别忘了 GQA。")
        answerer.locator(".question .comment-form").get_by_role("button", name="发表评论").click()
        answerer.wait_for_selector(".question .comment")

        # The asker: a badge on the next page, the entries in the inbox.
        asker.goto(f"{base}/")
        badge = asker.locator(".inbox-badge")
        assert re.sub(r"\D", "", badge.inner_text()) == "2"
        asker.locator(".site-account__inbox").click()
        asker.wait_for_url(f"{base}/inbox/")
        items = asker.locator(".inbox__item--unread")
        assert items.count() == 2
        assert "回答者 回答了“KV Cache 的显存怎么估算？”" in asker.locator(".inbox").inner_text()
        shot(asker, f"inbox-{device}")
        assert fits(asker, width)

        # Opening the answer's entry lands on the answer and marks it read.
        asker.locator(".inbox__link", has_text="回答了").click()
        asker.wait_for_url(re.compile(rf".*#answer-{answer.pk}$"))
        assert asker.locator(f"#answer-{answer.pk}").is_visible()
        assert re.sub(r"\D", "", asker.locator(".inbox-badge").inner_text()) == "1"
        shot(asker, f"question-signed-in-{device}")
        assert fits(asker, width)
        asker.goto(f"{base}/inbox/")
        asker.get_by_role("button", name="全部标为已读").click()
        asker.wait_for_url(f"{base}/inbox/")
        assert asker.locator(".inbox-badge").count() == 0
        assert not Notification.objects.filter(read_at=None).exists()
    finally:
        asker_context.close()
        answerer_context.close()


def test_watch_a_tag_and_see_the_my_tags_tab(
    browser,  # noqa: F811
    live_server,
    transactional_db,
):
    base = live_server.url
    UserFactory(username="reader")
    TagFactory(name="rlhf")
    question_make(title="DPO 和 PPO 的区别在哪里？", tags=("rlhf",))
    question_make(title="位置编码有哪几种做法？", tags=("llm",))
    context, page = new_page(browser, "desktop")
    try:
        log_in(page, base, "reader")
        page.goto(f"{base}/tags/rlhf/")
        page.get_by_role("button", name="关注标签").click()
        page.wait_for_selector("button[aria-pressed=true]")
        page.goto(f"{base}/")
        page.locator(".tabs").get_by_role("link", name="我的标签").click()
        page.wait_for_url(f"{base}/?tab=watched")
        listed = page.locator(".question-list").inner_text()
        assert "DPO 和 PPO 的区别在哪里？" in listed and "位置编码" not in listed
        page.goto(f"{base}/")
        assert page.locator(".question-row--watched").count() == 1
        shot(page, "home-watched-desktop")
    finally:
        context.close()


def test_unsubscribe_from_a_mail_link_without_logging_in(
    browser,  # noqa: F811
    live_server,
    transactional_db,
):
    asker = UserFactory(username="mailreader")
    notification_settings_set(actor=asker, email_mode="instant", hide_ignored=False)
    answer_make(question=question_make(author=asker))
    assert notifications_send() == 1
    link = re.search(r"http://\S+/unsubscribe/\S+/", mail.outbox[0].body).group(0)
    path = link.split("/unsubscribe/", 1)[1]
    context, page = new_page(browser, "phone")
    try:
        page.goto(f"{live_server.url}/unsubscribe/{path}")
        assert NotificationSettings.objects.get(user=asker).email_mode == "instant"
        page.get_by_role("button", name="退订").click()
        page.wait_for_selector("text=已退订")
        assert NotificationSettings.objects.get(user=asker).email_mode == "none"
        shot(page, "unsubscribed-phone")
        page.goto(f"{live_server.url}/unsubscribe/{path}")  # once per setting change
        assert page.get_by_role("button", name="退订").count() == 0
    finally:
        context.close()
