"""Signing in: by user name or e-mail address, in any letter case; one failure count per account."""

import pytest
from django.contrib.auth import get_user_model

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
PASSWORD = "correct horse battery staple"


def login(client, username: str, password: str = PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password})


@pytest.mark.parametrize(
    "typed", ["ZhangSan", "zhangsan", "ZHANGSAN", "zhang@example.com", "Zhang@Example.COM"]
)
def test_signs_in_with_the_user_name_or_email_in_any_case(client, typed):
    UserFactory(username="ZhangSan", email="zhang@example.com")
    response = login(client, f" {typed} ")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(username="ZhangSan").pk)


def test_a_wrong_password_by_email_is_refused(client):
    UserFactory(username="lisi", email="li@example.com")
    response = login(client, "li@example.com", "wrong password")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_user_name_wins_over_another_accounts_email(client):
    # "wang@example.com" is one member's user name and another member's e-mail address.
    named = UserFactory(username="wang@example.com", email="first@example.com")
    UserFactory(username="wangwu", email="wang@example.com", password="another password")
    assert login(client, "WANG@example.com").status_code == 302
    assert client.session["_auth_user_id"] == str(named.pk)


def test_two_accounts_sharing_an_address_cannot_sign_in_by_it(client):
    UserFactory(username="one", email="shared@example.com")
    UserFactory(username="two", email="shared@example.com")
    assert login(client, "shared@example.com").status_code == 200
    assert login(client, "two").status_code == 302


def test_the_login_page_says_name_or_email(client):
    assert "用户名或邮箱" in client.get("/accounts/login/").content.decode()
    assert "Username or email" in client.get("/en/accounts/login/").content.decode()


def test_failures_in_different_spellings_share_one_lockout(client):
    UserFactory(username="zhaoliu", email="zhao@example.com")
    for typed in ["zhaoliu", "ZhaoLiu", "zhao@example.com", "ZHAOLIU"]:
        assert login(client, typed, "wrong").status_code == 200
    assert login(client, "Zhao@Example.com", "wrong").status_code == 429
    # Locked for the account, whichever spelling: even the right password waits.
    assert login(client, "zhaoliu").status_code == 429


def test_the_api_token_endpoint_takes_an_email(api_client):
    UserFactory(username="zhouqi", email="zhou@example.com")
    response = api_client.post(
        "/api/v1/auth/token/",
        {"username": "ZHOU@example.com", "password": PASSWORD, "name": "laptop"},
        format="json",
    )
    assert response.status_code == 201 and response.json()["token"]
