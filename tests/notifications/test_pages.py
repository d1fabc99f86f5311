"""The inbox, achievements, follow/bookmark/tag buttons and settings, through real HTTP."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kb.services.comments import comment_create
from kb.services.moderation import post_delete
from kb.services.reputation import reputation_grant
from notifications.models import Bookmark, Notification, NotificationSettings, QuestionFollow
from notifications.selectors import UNREAD_SHOWN_MAX
from tests.factories import TagFactory, UserFactory, answer_make, moderator_create, question_make

pytestmark = pytest.mark.django_db


def test_the_header_shows_the_unread_count_to_the_recipient_only(client):
    question = question_make()
    answer_make(question=question)
    answer_make(question=question)
    client.force_login(question.author)
    page = client.get("/").content.decode()
    assert '<span class="inbox-badge"><span class="visually-hidden">(</span>2<' in page
    client.force_login(UserFactory())
    assert "inbox-badge" not in client.get("/").content.decode()


def test_the_badge_says_99_plus_past_99(client):
    question = question_make()
    Notification.objects.bulk_create(
        Notification(recipient=question.author, kind="answer", question=question)
        for _ in range(UNREAD_SHOWN_MAX + 5)
    )
    client.force_login(question.author)
    assert f">{UNREAD_SHOWN_MAX}+<" in client.get("/").content.decode()


def test_the_unread_count_costs_a_member_one_query_and_an_anonymous_reader_none(
    client, django_assert_num_queries
):
    question = question_make()
    answer_make(question=question)
    with CaptureQueriesContext(connection) as anonymous:
        client.get("/tags/")
    assert not any("notifications_" in q["sql"] for q in anonymous.captured_queries)
    for member in (UserFactory(), question.author):  # nothing unread / something unread
        client.force_login(member)
        # + session, user, and the unread count
        with django_assert_num_queries(len(anonymous.captured_queries) + 3) as seen:
            client.get("/tags/")
        inbox_queries = [q["sql"] for q in seen.captured_queries if "notifications_" in q["sql"]]
        assert len(inbox_queries) == 1


def test_the_unread_count_reads_the_partial_index():
    question = question_make()
    answer_make(question=question)
    unread = Notification.objects.filter(recipient=question.author, read_at__isnull=True)
    sql, params = unread.values("pk")[:100].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "notification_unread" in plan


def test_opening_an_item_marks_it_read_and_goes_to_the_exact_answer(client):
    question = question_make()
    answer = answer_make(question=question)
    item = Notification.objects.get(recipient=question.author)
    client.force_login(question.author)
    response = client.get(f"/inbox/{item.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith(f"/questions/{question.pk}/")
    assert response["Location"].endswith(f"#answer-{answer.pk}")
    item.refresh_from_db()
    assert item.read_at is not None


def test_a_comment_item_links_to_the_comment_anchor(client):
    question = question_make()
    comment = comment_create(actor=UserFactory(), post=question, body="好问题")
    item = Notification.objects.get(recipient=question.author)
    client.force_login(question.author)
    assert client.get(f"/inbox/{item.pk}/")["Location"].endswith(f"#comment-{comment.pk}")


def test_nobody_opens_someone_elses_notification(client):
    question = question_make()
    answer_make(question=question)
    item = Notification.objects.get(recipient=question.author)
    client.force_login(UserFactory())
    assert client.get(f"/inbox/{item.pk}/").status_code == 404
    item.refresh_from_db()
    assert item.read_at is None
    client.logout()
    assert client.get(f"/inbox/{item.pk}/").status_code == 302  # to the login page


def test_mark_all_read_marks_only_ones_own(client):
    question, other = question_make(), question_make()
    answer_make(question=question)
    answer_make(question=other)
    client.force_login(question.author)
    assert client.post("/inbox/read/").status_code == 302
    assert not Notification.objects.filter(recipient=question.author, read_at=None).exists()
    assert Notification.objects.filter(recipient=other.author, read_at=None).count() == 1


def test_inbox_page_lists_items_and_costs_the_same_for_many(client, django_assert_num_queries):
    question = question_make(title="注意力机制为什么要除以根号d")
    answer_make(question=question)
    client.force_login(question.author)
    page = client.get("/inbox/").content.decode()
    assert "注意力机制为什么要除以根号d" in page and "inbox__item--unread" in page
    # session, user, moderator check, page count, rows (with actor, question, revision), unread
    with django_assert_num_queries(6):
        client.get("/inbox/")
    for _ in range(20):
        answer_make(question=question)
    with django_assert_num_queries(6):
        client.get("/inbox/")
    assert client.get("/inbox/?unread=1").status_code == 200


def test_an_item_about_a_deleted_question_leaves_the_inbox(client):
    question = question_make()
    follower = UserFactory()
    answer_make(question=question, author=follower)
    answer_make(question=question)
    post_delete(actor=moderator_create(), post=question, reason="spam")
    client.force_login(follower)
    assert question.title not in client.get("/inbox/").content.decode()


def test_achievements_group_reputation_per_day_and_post(client, django_assert_num_queries):
    from kb.services.votes import vote_cast
    from tests.kb.moderation_support import member

    question = question_make(title="RMSNorm 与 LayerNorm 的差别")
    voters = [member(20) for _ in range(3)]
    for voter in voters:
        vote_cast(actor=voter, post=question, value=1)
    reputation_grant(actor=None, user=question.author, amount=5, reason="活动奖励")
    client.force_login(question.author)
    page = client.get("/achievements/").content.decode()
    assert "RMSNorm 与 LayerNorm 的差别" in page
    assert ">+30<" in page  # three upvotes on one post, one group
    assert ">+5<" in page
    # session, user, group count, groups, moderator check, their questions, unread count
    with django_assert_num_queries(7):
        client.get("/achievements/")


def test_follow_and_bookmark_buttons_post_and_toggle(client, user):
    question = question_make()
    client.force_login(user)
    page = client.get(f"/questions/{question.pk}/").content.decode()
    assert 'name="follow" value="1"' in page and 'name="bookmark" value="1"' in page
    client.post(f"/questions/{question.pk}/follow/", {"follow": "1"})
    client.post(f"/questions/{question.pk}/bookmark/", {"bookmark": "1"})
    assert QuestionFollow.objects.filter(user=user, question=question, active=True).exists()
    assert Bookmark.objects.filter(user=user, question=question).exists()
    page = client.get(f"/questions/{question.pk}/").content.decode()
    assert 'name="follow" value="0"' in page and 'name="bookmark" value="0"' in page
    profile = client.get(f"/users/{user.username}/").content.decode()
    assert question.title in profile
    client.post(f"/questions/{question.pk}/follow/", {"follow": "0"})
    client.post(f"/questions/{question.pk}/bookmark/", {"bookmark": "0"})
    assert not QuestionFollow.objects.filter(user=user, active=True).exists()
    assert not Bookmark.objects.exists()


def test_bookmarks_are_private_to_their_owner(client, user):
    question = question_make(title="私人收藏的题目一二三")
    Bookmark.objects.create(user=user, question=question)
    client.force_login(UserFactory())
    assert "私人收藏的题目一二三" not in client.get(f"/users/{user.username}/").content.decode()


def test_following_a_deleted_question_is_a_404(client):
    question = question_make()
    post_delete(actor=moderator_create(), post=question, reason="spam")
    client.force_login(question.author)  # the author still sees it, but cannot follow it
    assert client.post(f"/questions/{question.pk}/follow/").status_code == 404
    assert client.post(f"/questions/{question.pk}/bookmark/").status_code == 404
    assert client.post("/questions/999999/follow/").status_code == 404


def test_anonymous_readers_see_no_controls_and_cannot_follow(client):
    question = question_make()
    assert "follow-controls" not in client.get(f"/questions/{question.pk}/").content.decode()
    response = client.post(f"/questions/{question.pk}/follow/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not QuestionFollow.objects.filter(user__isnull=True).exists()


def test_question_page_for_members_does_not_grow_with_followers(
    client, settings, django_assert_num_queries
):
    settings.MEMBER_PAGE_CACHE_ENABLED = False  # the render's cost (tests/kb/test_member_pages.py)
    question = question_make()
    viewer = UserFactory()
    client.force_login(viewer)
    client.get(f"/questions/{question.pk}/")
    with CaptureQueriesContext(connection) as few:
        client.get(f"/questions/{question.pk}/")
    assert sum("notifications_" in q["sql"] for q in few.captured_queries) == 2  # unread, state
    for _ in range(30):
        QuestionFollow.objects.create(user=UserFactory(), question=question)
        Bookmark.objects.create(user=UserFactory(), question=question)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(f"/questions/{question.pk}/")


def test_my_tags_tab_lists_questions_in_watched_tags_and_marks_rows(client, user):
    watched, ignored = TagFactory(name="rlhf"), TagFactory(name="cnn")
    in_watched = question_make(title="DPO 和 PPO 的区别是什么", tags=("rlhf",))
    in_ignored = question_make(title="卷积的感受野怎么算出来", tags=("cnn",))
    other = question_make(title="位置编码有哪几种做法", tags=("llm",))
    client.force_login(user)
    client.post(f"/tags/{watched.name}/watch/", {"kind": "watched"})
    client.post(f"/tags/{ignored.name}/watch/", {"kind": "ignored"})
    tab = client.get("/?tab=watched").content.decode()
    assert in_watched.title in tab and other.title not in tab and in_ignored.title not in tab
    home = client.get("/").content.decode()
    assert "question-row question-row--watched" in home
    assert "question-row question-row--ignored" in home
    saved = client.post(
        "/settings/notifications/",
        {"email_mode": "none", "watched": "rlhf", "ignored": "cnn", "hide_ignored": "on"},
    )
    assert saved.status_code == 302
    assert NotificationSettings.objects.get(user=user).hide_ignored
    assert in_ignored.title not in client.get("/").content.decode()
    cache.clear()
    client.logout()
    assert "?tab=watched" not in client.get("/").content.decode()


def test_home_page_for_members_costs_a_fixed_number_of_queries(
    client, user, settings, django_assert_num_queries
):
    settings.MEMBER_PAGE_CACHE_ENABLED = False  # the render's cost (tests/kb/test_member_pages.py)
    TagFactory(name="rlhf")
    for _ in range(3):
        question_make(tags=("rlhf",))
    client.force_login(user)
    client.post("/tags/rlhf/watch/", {"kind": "watched"})
    # session, user, tag preferences, moderator check, count, unread count, rows
    with django_assert_num_queries(7):
        client.get("/?tab=watched")
    for _ in range(10):
        question_make(tags=("rlhf",))
    with django_assert_num_queries(7):
        client.get("/?tab=watched")


def test_settings_page_saves_tags_and_mode_and_shows_errors(client, user):
    TagFactory(name="rlhf")
    client.force_login(user)
    response = client.post(
        "/settings/notifications/",
        {"email_mode": "daily", "watched": "rlhf", "ignored": "nosuchtag"},
    )
    assert response.status_code == 200
    assert "nosuchtag" in response.content.decode()
    assert not NotificationSettings.objects.filter(user=user).exists()
    response = client.post(
        "/settings/notifications/", {"email_mode": "daily", "watched": "rlhf", "ignored": ""}
    )
    assert response.status_code == 302
    assert NotificationSettings.objects.get(user=user).email_mode == "daily"
    assert 'value="rlhf"' in client.get("/settings/notifications/").content.decode()


def test_pages_read_in_english_too(client):
    question = question_make()
    answer_make(question=question)
    client.force_login(question.author)
    page = client.get("/en/inbox/").content.decode()
    assert "Mark all read" in page and "answered" in page


@pytest.mark.parametrize(("who", "status"), [("anonymous", 302), ("member", 403), ("self", 403)])
def test_only_moderators_open_the_moderator_message_page(client, who, status):
    target = UserFactory()
    if who == "member":
        client.force_login(UserFactory())
    elif who == "self":
        moderator = moderator_create()
        client.force_login(moderator)
        target = moderator
    assert client.get(f"/users/{target.username}/message/").status_code == status
    assert client.post(f"/users/{target.username}/message/", {"text": "hi"}).status_code == status
    assert not Notification.objects.exists()


def test_a_moderator_writes_to_a_member_from_their_page(client, django_assert_num_queries):
    moderator, member = moderator_create(), UserFactory()
    client.force_login(moderator)
    assert (
        f"/users/{member.username}/message/"
        in client.get(f"/users/{member.username}/").content.decode()
    )
    response = client.post(f"/users/{member.username}/message/", {"text": ""})
    assert response.status_code == 200 and not Notification.objects.exists()
    response = client.post(f"/users/{member.username}/message/", {"text": "请勿灌水。"})
    assert response.status_code == 302
    item = Notification.objects.get(recipient=member)
    assert (item.kind, item.text, item.actor_id) == (
        "moderator_message",
        "请勿灌水。",
        moderator.pk,
    )
    with django_assert_num_queries(5):  # session, user, member, moderator check, unread count
        client.get(f"/users/{member.username}/message/")
