"""The member directory (/users/: by reputation, searchable) and the help pages, in both
languages."""

import re

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def names_in_order(html: str) -> list[str]:
    return re.findall(r'class="user-card__name" href="[^"]*">([^<]*)</a>', html)


def test_the_directory_lists_members_by_reputation(client, django_assert_num_queries):
    UserFactory(username="low", reputation=5)
    UserFactory(username="high", reputation=900)
    UserFactory(username="middle", reputation=120)
    UserFactory(username="gone", reputation=5000, is_active=False)
    UserFactory(username="mianjing", reputation=9999, is_system=True)
    with django_assert_num_queries(2):  # the count and the page
        response = client.get("/users/")
    html = response.content.decode()
    assert names_in_order(html) == ["high", "middle", "low"]
    assert "3 位成员" in html


def test_the_directory_finds_members_by_user_or_display_name(client):
    UserFactory(username="zhangsan", display_name="张三")
    UserFactory(username="lisi", display_name="李四")
    UserFactory(username="ZhangWei")
    assert names_in_order(client.get("/users/?q=ZHANG").content.decode()) == ["张三", "ZhangWei"]
    assert names_in_order(client.get("/users/?q=李").content.decode()) == ["李四"]
    empty = client.get("/users/?q=nobody").content.decode()
    assert names_in_order(empty) == [] and "没有名字包含“nobody”的成员" in empty


def test_the_directory_takes_odd_input_calmly(client):
    assert client.get("/users/?q=a%00b").status_code == 400  # a NUL byte: 400 site-wide
    assert client.get("/users/?page=999").status_code == 200
    assert client.get("/users/?q=" + "长" * 500).status_code == 200


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/help/about/", "关于面经"),
        ("/help/how-to-ask/", "如何提问"),
        ("/help/how-to-answer/", "如何回答"),
        ("/help/privileges/", "权限"),
        ("/en/help/about/", "About Mianjing"),
        ("/en/help/how-to-ask/", "How to ask"),
        ("/en/help/how-to-answer/", "How to answer"),
        ("/en/help/privileges/", "Privileges"),
    ],
)
def test_help_pages_in_both_languages(client, path, heading, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(path)
    assert response.status_code == 200
    assert f"<h1>{heading}</h1>" in response.content.decode()


def test_the_privileges_page_shows_the_thresholds_in_force(client, settings):
    settings.MIANJING = {**settings.MIANJING, "PRIVILEGE_DOWNVOTE": 777}
    html = client.get("/en/help/privileges/").content.decode()
    assert "<td>Vote down</td><td>777</td>" in html
    assert "<td>Moderator tools</td><td>Moderators</td>" in html


def test_unknown_help_topics_are_not_found(client):
    assert client.get("/help/nothing/").status_code == 404


def test_every_page_links_to_help_and_the_directory(client):
    html = client.get("/").content.decode()
    for href in ("/users/", "/help/about/", "/help/how-to-ask/", "/help/privileges/"):
        assert f'href="{href}"' in html
