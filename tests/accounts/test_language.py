"""The interface keeps its language: Accept-Language on a first visit, then the visitor's choice
(the language cookie, set by the switch and at log-in), applied to unprefixed addresses; the API
answers in the visitor's language and says so."""

import re

import pytest
from django.test import Client

from kb.models import Tag
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ENGLISH_BROWSER = {"accept-language": "en-US,en;q=0.9,zh;q=0.5"}
CHINESE_BROWSER = {"accept-language": "zh-CN,zh;q=0.9,en;q=0.5"}


def switch_link(html: str) -> str:
    return re.search(r'class="language-switch" href="([^"]*)"', html).group(1).replace("&amp;", "&")


def test_an_english_browser_is_sent_to_the_english_address():
    browser = Client(headers=ENGLISH_BROWSER)
    Tag.objects.create(name="llm")
    response = browser.get("/tags/llm/?tab=top")
    assert response.status_code == 302 and response["Location"] == "/en/tags/llm/?tab=top"
    assert "Accept-Language" in response["Vary"] and "Cookie" in response["Vary"]
    assert "Tags" in browser.get(response["Location"]).content.decode()


def test_a_chinese_browser_and_a_crawler_without_preference_stay_on_the_chinese_address():
    Tag.objects.create(name="llm")
    for headers in (CHINESE_BROWSER, {}):
        response = Client(headers=headers).get("/tags/")
        assert response.status_code == 200
        assert "标签" in response.content.decode()
        assert response["Content-Language"] == "zh-hans"


def test_the_choice_of_english_is_kept_for_unprefixed_links():
    browser = Client(headers=CHINESE_BROWSER)
    Tag.objects.create(name="llm")
    chinese = browser.get("/tags/llm/?tab=top").content.decode()
    assert switch_link(chinese) == "/language/en/?next=/tags/llm/%3Ftab%3Dtop"
    response = browser.get(switch_link(chinese))
    assert response.status_code == 302 and response["Location"] == "/en/tags/llm/?tab=top"
    assert response.cookies["django_language"].value == "en"
    # A shared link without /en/ now opens in English.
    assert browser.get("/tags/")["Location"] == "/en/tags/"


def test_the_choice_of_chinese_wins_over_an_english_browser():
    browser = Client(headers=ENGLISH_BROWSER)
    Tag.objects.create(name="llm")
    english = browser.get("/en/tags/llm/").content.decode()
    assert switch_link(english) == "/language/zh-hans/?next=/tags/llm/"
    response = browser.get(switch_link(english))
    assert response.status_code == 302 and response["Location"] == "/tags/llm/"
    assert response.cookies["django_language"].value == "zh-hans"
    assert browser.get("/tags/llm/").status_code == 200


def test_the_switch_refuses_unknown_languages_and_foreign_next_addresses(client):
    assert client.get("/language/fr/?next=/").status_code == 404
    response = client.get("/language/en/?next=https://evil.example/")
    assert response.status_code == 302 and response["Location"] == "/en/"


def test_anonymous_pages_carry_no_csrf_cookie_for_the_switch(client):
    response = client.get("/")
    assert "csrftoken" not in response.cookies
    assert "/i18n/setlang/" not in response.content.decode()


def test_posts_and_non_pages_are_never_redirected():
    browser = Client(headers=ENGLISH_BROWSER)
    assert browser.post("/accounts/login/", {"username": "x", "password": "y"}).status_code == 200
    assert browser.get("/api/v1/tags/").status_code == 200


def test_a_member_logging_in_gets_their_setting_for_unprefixed_links(client):
    UserFactory(username="english", preferred_language="en")
    client.post(
        "/accounts/login/", {"username": "english", "password": "correct horse battery staple"}
    )
    assert client.get("/tags/")["Location"] == "/en/tags/"


@pytest.mark.parametrize(
    ("headers", "language", "message"),
    [
        (ENGLISH_BROWSER, "en", "Not found."),
        (CHINESE_BROWSER, "zh-hans", "未找到。"),
        ({}, "zh-hans", "未找到。"),
    ],
)
def test_the_api_answers_in_the_visitors_language(headers, language, message):
    response = Client(headers=headers).get("/api/v1/questions/999999/")
    assert response.status_code == 404
    assert response["Content-Language"] == language
    assert "Accept-Language" in response["Vary"]
    assert response.json()["error"]["message"] == message


def test_the_api_follows_accept_language_before_the_cookie():
    browser = Client(headers=ENGLISH_BROWSER)
    browser.cookies["django_language"] = "zh-hans"
    response = browser.get("/api/v1/questions/999999/")
    assert response["Content-Language"] == "en"
    assert Client().get("/api/v1/questions/999999/")["Content-Language"] == "zh-hans"
