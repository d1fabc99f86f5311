"""Members' pages from their own cache (kb/views/page_cache.py): a member's second visit is served
from an entry kept for them alone, in two queries (session and user), while every version it was
rendered with holds: the page's (any write anyone makes to what it shows) and the member's own
(`viewer:<id>`: each of their writes, their inbox, their reputation and role). Tokens are new on
every response; what changes with the clock is either filled in on each response (the practice
badge) or bounds the entry's life (an edit window, a lock). Writes run their on_commit callbacks
as a commit would (`django_capture_on_commit_callbacks(execute=True)`)."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import Client, RequestFactory
from django.utils import timezone

from kb.models import Comment, Question
from kb.roles import MODERATOR_GROUP
from kb.rules import rule
from kb.services.comments import comment_create
from kb.services.moderation import post_lock
from kb.services.reputation import reputation_grant
from kb.services.reviews import edit_review
from notifications.models import Notification
from practice.models import PracticeCard
from tests.factories import UserFactory, answer_make, moderator_create, question_make
from tests.kb.moderation_support import member, reviewer, suggest

pytestmark = pytest.mark.django_db

HIT = "X-Page-Cache"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
ANSWER_TEXT = "RMSNorm 只做缩放、不减均值,省掉一次归约,在大模型里训练同样稳定。"


@pytest.fixture
def world(db):
    author = UserFactory(username="zhangsan", display_name="张三")
    question = question_make(author=author, title="KV cache 为什么能加速解码?", body="问题正文")
    answer = answer_make(question=question, body="第一个回答的正文")
    viewer = member(rule("PRIVILEGE_UPVOTE"), username="lisi", display_name="李四")
    return {"author": author, "question": question, "answer": answer, "viewer": viewer}


def signed_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def qurl(question) -> str:
    return f"/en/questions/{question.pk}/"


def get(client, url, expected: str):
    """GET a page: "hit" (from the member's entry), "miss" (rendered and stored) or "rendered"
    (not from the cache: after a write, the page may also show a message, and is not stored)."""
    response = client.get(url)
    assert response.status_code == 200, url
    found = response.get(HIT)
    assert found != "hit" if expected == "rendered" else found == expected, (url, found)
    return response


def text(response) -> str:
    return response.content.decode()


def without_tokens(html: str) -> str:
    return FORM_TOKEN.sub("", CSRF.sub("", html))


@pytest.mark.parametrize("page", ["question", "home", "user", "tag"])
def test_a_members_second_visit_comes_from_their_cache_in_two_queries(
    world, page, django_assert_num_queries
):
    url = {
        "question": qurl(world["question"]),
        "home": "/en/",
        "user": f"/en/users/{world['author'].username}/",
        "tag": "/en/tags/llm/",
    }[page]
    client = signed_in(world["viewer"])
    first = get(client, url, "miss")
    with django_assert_num_queries(2):  # the session and the user: nothing of the page
        second = get(client, url, "hit")
    assert "private" in second["Cache-Control"] and "public" not in second["Cache-Control"]
    assert without_tokens(text(second)) == without_tokens(text(first))
    assert "李四" in text(second) and "mj-slot-" not in text(second)


def test_members_never_see_each_others_pages(world):
    url = qurl(world["question"])
    get(signed_in(world["viewer"]), url, "miss")
    other = signed_in(UserFactory(username="wangwu", display_name="王五"))
    page = text(get(other, url, "miss"))
    assert "王五" in page and "李四" not in page
    assert "李四" in text(get(signed_in(world["viewer"]), url, "hit"))


def test_a_cached_page_carries_this_sessions_csrf_token_and_new_form_tokens(
    world, django_capture_on_commit_callbacks
):
    client = signed_in(world["viewer"], enforce_csrf_checks=True)
    url = qurl(world["question"])
    get(client, url, "miss")
    first, second = text(get(client, url, "hit")), text(get(client, url, "hit"))
    assert CSRF.findall(first) and FORM_TOKEN.findall(first)
    # a one-time token must never be handed out twice (it would refuse the second post)
    assert FORM_TOKEN.findall(first) != FORM_TOKEN.findall(second)
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(
            f"/en/questions/{world['question'].pk}/answers/",
            {
                "csrfmiddlewaretoken": CSRF.findall(first)[0],
                "form_token": FORM_TOKEN.findall(first)[0],
                "body": ANSWER_TEXT,
            },
        )
    assert posted.status_code == 302
    assert world["question"].answers.filter(body=ANSWER_TEXT).count() == 1
    assert ANSWER_TEXT in text(get(client, url, "rendered"))
    assert ANSWER_TEXT in text(get(client, url, "miss"))


@pytest.mark.parametrize(
    "write, shown",
    [
        (lambda w: (f"/en/answers/{w['answer'].pk}/vote/", {"value": "1"}), 'aria-pressed="true"'),
        # Following changes nothing anyone else sees (no page version moves): only the member's
        # own version does, as any page form or API call of theirs moves it.
        (
            lambda w: (f"/en/questions/{w['question'].pk}/follow/", {"follow": "1"}),
            'aria-pressed="true">Following',
        ),
    ],
    ids=["vote", "follow"],
)
def test_the_members_own_write_shows_on_their_next_page(
    world, write, shown, django_capture_on_commit_callbacks
):
    client = signed_in(world["viewer"])
    url = qurl(world["question"])
    get(client, url, "miss")
    assert shown not in text(get(client, url, "hit"))
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(*write(world)).status_code == 302
    assert shown in text(get(client, url, "rendered"))  # with the write's message
    assert shown in text(get(client, url, "miss"))  # not the old entry


def test_someone_elses_answer_shows_on_the_members_next_page(
    world, django_capture_on_commit_callbacks
):
    client = signed_in(world["viewer"])
    url = qurl(world["question"])
    get(client, url, "miss")
    get(client, url, "hit")
    with django_capture_on_commit_callbacks(execute=True):
        answer_make(question=world["question"], body=ANSWER_TEXT)
    assert ANSWER_TEXT in text(get(client, url, "miss"))


def test_a_new_inbox_item_shows_on_the_members_cached_pages(
    world, django_capture_on_commit_callbacks
):
    """The asker's page of another question, which the comment changes nothing on, gets their
    unread count anew."""
    elsewhere = question_make(title="卷积神经网络的感受野怎么计算", body="图像分类", tags=("cv",))
    client = signed_in(world["author"])
    url = qurl(elsewhere)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/en/inbox/read/")  # read what the fixture's answer brought
    get(client, url, "rendered")
    get(client, url, "miss")
    assert "inbox-badge" not in text(get(client, url, "hit"))
    with django_capture_on_commit_callbacks(execute=True):
        comment_create(actor=world["viewer"], post=world["question"], body="这个问题问得很好")
    assert "inbox-badge" in text(get(client, url, "miss"))


def test_opening_an_inbox_item_clears_the_count_on_cached_pages(
    world, django_capture_on_commit_callbacks
):
    """Opening an item is a GET (a link in the inbox): it moves the member's version itself."""
    client = signed_in(world["author"])  # the fixture's answer is unread in their inbox
    url = qurl(question_make(title="卷积神经网络的感受野怎么计算", tags=("cv",)))
    get(client, url, "miss")
    assert "inbox-badge" in text(get(client, url, "hit"))
    item = Notification.objects.get(recipient=world["author"])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(f"/en/inbox/{item.pk}/").status_code == 302
    assert "inbox-badge" not in text(get(client, url, "miss"))


def test_reputation_that_earns_a_privilege_shows_at_once(world, django_capture_on_commit_callbacks):
    newcomer = UserFactory(username="xiaoming")
    client = signed_in(newcomer)
    url = qurl(world["question"])
    get(client, url, "miss")
    assert "Voting up needs" in text(get(client, url, "hit"))
    with django_capture_on_commit_callbacks(execute=True):
        reputation_grant(actor=None, user=newcomer, amount=rule("PRIVILEGE_UPVOTE"), reason="测试")
    assert "Voting up needs" not in text(get(client, url, "miss"))


def test_becoming_a_moderator_shows_the_tools_at_once(world, django_capture_on_commit_callbacks):
    client = signed_in(world["viewer"])
    url = qurl(world["question"])
    delete = f'action="/en/moderation/answer/{world["answer"].pk}/delete/"'
    get(client, url, "miss")
    assert delete not in text(get(client, url, "hit"))
    moderator_create()  # the group exists
    with django_capture_on_commit_callbacks(execute=True):
        world["viewer"].groups.add(Group.objects.get(name=MODERATOR_GROUP))
    assert delete in text(get(client, url, "miss"))


def test_an_account_changed_in_the_admin_shows_at_once(world, django_capture_on_commit_callbacks):
    """Made staff by saving the user row (the admin, a shell): no service ran."""
    client = signed_in(world["viewer"])
    url = qurl(world["question"])
    delete = f'action="/en/moderation/answer/{world["answer"].pk}/delete/"'
    get(client, url, "miss")
    assert delete not in text(get(client, url, "hit"))
    world["viewer"].is_staff = True
    with django_capture_on_commit_callbacks(execute=True):
        world["viewer"].save()
    assert delete in text(get(client, url, "miss"))


def test_a_message_waiting_to_be_shown_is_never_lost_to_the_cache(world):
    client = signed_in(world["viewer"])
    url = qurl(world["question"])
    get(client, url, "miss")
    get(client, url, "hit")
    storage = CookieStorage(RequestFactory().get("/"))
    client.cookies["messages"] = storage._encode([Message(constants.SUCCESS, "你的修改已保存")])
    shown = client.get(url)
    assert "你的修改已保存" in text(shown) and shown.get(HIT) is None  # not from the cache
    assert "你的修改已保存" not in text(get(client, url, "hit"))  # shown once, then the cache


def test_the_practice_badge_is_counted_anew_on_a_cached_page(world):
    client = signed_in(world["viewer"])
    url = qurl(world["question"])
    get(client, url, "miss")
    assert "data-practice-due" not in text(get(client, url, "hit"))
    now = timezone.now()
    for question in (world["question"], question_make()):
        PracticeCard.objects.create(user=world["viewer"], question=question, due=now)
    type(world["viewer"]).objects.filter(pk=world["viewer"].pk).update(practice_due_at=now)
    page = text(get(client, url, "hit"))
    assert re.search(r"data-practice-due[^>]*>2<", page)


def test_a_comment_edit_window_closing_bounds_the_entrys_life(
    world, django_capture_on_commit_callbacks
):
    client = signed_in(world["viewer"])
    url = qurl(world["question"])
    with django_capture_on_commit_callbacks(execute=True):
        comment = comment_create(actor=world["viewer"], post=world["question"], body="我的评论正文")
    window = timedelta(seconds=rule("COMMENT_EDIT_SECONDS"))
    # Editable for half a second more: the page may not be kept (the Edit link goes soon).
    Comment.objects.filter(pk=comment.pk).update(
        created_at=timezone.now() - window + timedelta(milliseconds=500)
    )
    get(client, url, "miss")
    get(client, url, "miss")
    # The window has closed: nothing changes by itself any more, the page is kept.
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - 2 * window)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/en/inbox/read/")  # any write of theirs
    get(client, url, "rendered")  # with the write's message
    get(client, url, "miss")
    get(client, url, "hit")


def test_a_lock_ending_bounds_the_entrys_life(world, django_capture_on_commit_callbacks):
    client = signed_in(world["viewer"])
    url = qurl(world["question"])
    with django_capture_on_commit_callbacks(execute=True):
        post_lock(actor=moderator_create(), post=world["question"], reason="编辑争议", days=1)
    get(client, url, "miss")
    get(client, url, "hit")  # locked for a day: kept
    Question.objects.filter(pk=world["question"].pk).update(
        locked_until=timezone.now() + timedelta(milliseconds=500)
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/en/inbox/read/")
    get(client, url, "rendered")  # with the write's message
    get(client, url, "miss")
    get(client, url, "miss")  # the lock ends in under a second: not kept


@pytest.mark.parametrize("signed_in_as", ["viewer", None])
def test_pages_with_a_lock_that_has_ended_are_kept(
    world, signed_in_as, django_capture_on_commit_callbacks
):
    """The row still holds when its lock ended; the page shows it ended and changes no more."""
    client = signed_in(world[signed_in_as]) if signed_in_as else Client()
    with django_capture_on_commit_callbacks(execute=True):
        post_lock(actor=moderator_create(), post=world["question"], reason="编辑争议", days=1)
    Question.objects.filter(pk=world["question"].pk).update(
        locked_until=timezone.now() - timedelta(minutes=1)
    )
    url = qurl(world["question"])
    get(client, url, "miss")
    get(client, url, "hit")


def test_the_review_queue_comes_from_the_cache_until_anyone_reviews_or_suggests(
    world, django_capture_on_commit_callbacks, django_assert_num_queries
):
    with django_capture_on_commit_callbacks(execute=True):
        first = suggest(world["answer"], by=member(), body="第一个回答的正文,补上了结论。")
    client = signed_in(reviewer(username="reviewer_a"))
    url = "/en/review/edits/"
    get(client, url, "miss")
    with django_assert_num_queries(2):
        assert f"/en/review/edits/{first.pk}/" in text(get(client, url, "hit"))
    with django_capture_on_commit_callbacks(execute=True):
        edit_review(actor=moderator_create(), revision=first, decision="approve")
    assert f"/en/review/edits/{first.pk}/" not in text(get(client, url, "miss"))
    get(client, url, "hit")
    with django_capture_on_commit_callbacks(execute=True):
        second = suggest(world["question"], by=member(), body="问题正文,说清楚了场景。")
    assert f"/en/review/edits/{second.pk}/" in text(get(client, url, "miss"))


def test_the_member_cache_can_be_turned_off(world, settings):
    settings.MEMBER_PAGE_CACHE_ENABLED = False
    client = signed_in(world["viewer"])
    url = qurl(world["question"])
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200 and HIT not in response
