"""Every page of the notifications app, walked as anonymous / another member / the owner."""

import pytest

from notifications.models import Notification, NotificationSettings
from tests.factories import TagFactory, UserFactory, answer_make, question_make

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/inbox/"),
        ("post", "/inbox/read/"),
        ("get", "/inbox/{item}/"),
        ("get", "/achievements/"),
        ("get", "/settings/notifications/"),
        ("post", "/settings/notifications/"),
        ("post", "/questions/{question}/follow/"),
        ("post", "/questions/{question}/bookmark/"),
        ("post", "/tags/rlhf/watch/"),
        ("get", "/users/{asker}/message/"),
    ],
)
def test_anonymous_visitors_are_sent_to_log_in_and_nothing_changes(client, method, path):
    TagFactory(name="rlhf")
    question = question_make()
    answer_make(question=question)
    item = Notification.objects.get()
    url = path.format(item=item.pk, question=question.pk, asker=question.author.username)
    response = getattr(client, method)(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    item.refresh_from_db()
    assert item.read_at is None
    assert not NotificationSettings.objects.exists()


@pytest.mark.parametrize(
    "path", ["/inbox/read/", "/questions/{question}/follow/", "/questions/{question}/bookmark/"]
)
def test_writes_refuse_get(client, user, path):
    question = question_make()
    client.force_login(user)
    assert client.get(path.format(question=question.pk)).status_code == 405


def test_mark_all_read_of_another_member_leaves_the_owners_items(client):
    question = question_make()
    answer_make(question=question)
    client.force_login(UserFactory())
    client.post("/inbox/read/")
    assert Notification.objects.get().read_at is None


def test_tag_watch_refuses_a_bad_kind_and_unknown_tags(client, user):
    TagFactory(name="rlhf")
    client.force_login(user)
    response = client.post("/tags/rlhf/watch/", {"kind": "adore"}, follow=True)
    assert "请选择关注或忽略" in response.content.decode()
    assert client.post("/tags/nosuchtag/watch/", {"kind": "watched"}).status_code == 404
