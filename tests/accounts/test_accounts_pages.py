"""Account pages: sign up, log in and its lockout, log out, password change and reset, profile
settings with the preferred language, API tokens, and role badges."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from accounts.models import ApiToken
from accounts.services import token_create
from tests.factories import UserFactory, moderator_create

pytestmark = pytest.mark.django_db

User = get_user_model()
PASSWORD = "correct horse battery staple"
SIGNUP = {"username": "王小明", "email": "xiaoming@example.com", "password": "变分自编码器VAE-2024",
          "password_again": "变分自编码器VAE-2024"}  # fmt: skip


def page(response) -> str:
    return response.content.decode()


def field_errors(html: str, field: str) -> str:
    match = re.search(rf'id="id_{field}_error">(.*?)</ul>', html, re.DOTALL)
    return match.group(1) if match else ""


# ---------- Sign up ----------


def _mailed_link(message) -> str:
    return re.search(r"http://testserver(/\S+)", message.body).group(1)


def test_sign_up_with_a_chinese_username_mails_a_link_that_logs_in_and_goes_back(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/signup/?next=/tags/", {**SIGNUP, "next": "/tags/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/signup/sent/"
    user = User.objects.get(username="王小明")
    assert user.email == "xiaoming@example.com" and user.check_password(SIGNUP["password"])
    assert "_auth_user_id" not in client.session  # not logged in until the link is followed
    [message] = mail.outbox
    assert message.to == ["xiaoming@example.com"]
    link = _mailed_link(message)
    followed = client.get(link)
    assert followed.status_code == 302 and followed["Location"] == "/tags/"
    html = page(client.get("/tags/"))
    assert "欢迎" in html and 'href="/users/%E7%8E%8B%E5%B0%8F%E6%98%8E/"' in html
    # The link works once.
    again = Client().get(link)
    assert again["Location"] == "/accounts/login/"


def test_sign_up_refuses_an_outside_next_address(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/signup/", {**SIGNUP, "next": "https://evil.example/"})
    assert Client().get(_mailed_link(mail.outbox[0]))["Location"] == "/"


def test_sign_up_with_a_registered_email_answers_like_a_new_one_and_mails_the_owner(
    django_capture_on_commit_callbacks,
):
    owner = UserFactory(username="owner", email="taken@example.com")
    fresh, known = Client(), Client()
    with django_capture_on_commit_callbacks(execute=True):
        new_answer = fresh.post("/accounts/signup/", SIGNUP)
    with django_capture_on_commit_callbacks(execute=True):
        known_answer = known.post(
            "/accounts/signup/", {**SIGNUP, "username": "冒名者", "email": "Taken@Example.com"}
        )
    # The same status, redirect and cookies; the page it leads to is the same.
    assert (new_answer.status_code, new_answer["Location"]) == (302, "/accounts/signup/sent/")
    assert (known_answer.status_code, known_answer["Location"]) == (302, "/accounts/signup/sent/")
    assert sorted(new_answer.cookies) == sorted(known_answer.cookies)
    assert page(fresh.get("/accounts/signup/sent/")) == page(known.get("/accounts/signup/sent/"))
    # No account for the second sign-up; its address's owner is told, with a reset link.
    assert not User.objects.filter(username="冒名者").exists()
    assert User.objects.filter(email__iexact="taken@example.com").get() == owner
    assert [m.to for m in mail.outbox] == [["xiaoming@example.com"], ["taken@example.com"]]
    note = mail.outbox[1]
    assert "/accounts/password/reset/" in note.body and "owner" in note.body
    reset = Client().get(_mailed_link(note), follow=True)
    assert reset.status_code == 200 and 'name="new_password1"' in page(reset)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"username": "WANG"}, "username", "已被占用"),
        ({"username": "有 空格"}, "username", "用户名"),
        ({"email": "not-an-email"}, "email", "邮件地址"),
        ({"password": "12345678", "password_again": "12345678"}, "password", "数字"),
        ({"password": "password", "password_again": "password"}, "password", "常见"),
        ({"password": "短", "password_again": "短"}, "password", "太短"),
        ({"password_again": "不一样的密码"}, "password_again", "不一致"),
        ({"username": ""}, "username", "必填"),
    ],
)
def test_refused_sign_up_shows_errors_and_keeps_name_and_email(client, change, field, message):
    UserFactory(username="wang", email="taken@example.com")
    data = {**SIGNUP, **change}
    response = client.post("/accounts/signup/", data)
    assert response.status_code == 200
    html = page(response)
    assert message in field_errors(html, field), field_errors(html, field)
    assert f'value="{data["email"]}"' in html
    assert f'value="{data["password"]}"' not in html  # passwords are never sent back
    assert not User.objects.filter(email=SIGNUP["email"]).exists()


def test_signed_in_member_visiting_sign_up_goes_home(client, user):
    client.force_login(user)
    assert client.get("/accounts/signup/")["Location"] == "/"


# ---------- Log in, lockout, log out ----------


def login(client, username: str, password: str, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password, **extra})


def test_login_and_post_only_logout(client):
    UserFactory(username="lisi")
    assert login(client, "lisi", PASSWORD).status_code == 302
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_login_page_links_to_reset_and_sign_up(client):
    html = page(client.get("/accounts/login/?next=/tags/"))
    assert 'href="/accounts/password/reset/"' in html
    assert 'href="/accounts/signup/?next=/tags/"' in html


def test_five_failures_lock_the_username_from_that_address_and_say_when(client):
    UserFactory(username="zhaoliu")
    for _ in range(4):
        assert login(client, "zhaoliu", "wrong").status_code == 200
    locked = login(client, "zhaoliu", "wrong")
    assert locked.status_code == 429
    html = page(locked)
    assert "登录失败次数过多" in html and "5 次" in html
    assert re.search(r'<time datetime="[^"]+">\d\d:\d\d</time>', html)
    assert re.search(r"大约 (59|60)\s分钟|大约 1\s小时", html)
    # The right password does not help during the pause; another username is not paused.
    assert login(client, "zhaoliu", PASSWORD).status_code == 429
    UserFactory(username="qianqi")
    assert login(client, "qianqi", PASSWORD).status_code == 302


def test_lockout_page_in_english(client):
    UserFactory(username="sunba")
    for _ in range(5):
        response = client.post("/en/accounts/login/", {"username": "sunba", "password": "x"})
    assert response.status_code == 429
    assert "Too many failed logins" in page(response) and "Try again after" in page(response)


def test_login_applies_the_preferred_language(client):
    UserFactory(username="english", preferred_language="en")
    response = login(client, "english", PASSWORD, next="/tags/")
    assert response["Location"] == "/en/tags/"
    assert response.cookies["django_language"].value == "en"


# ---------- Password change and reset ----------


def test_password_change_needs_login_and_the_old_password(client, user):
    response = client.get("/accounts/password/change/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    client.force_login(user)
    data = {"old_password": "wrong", "new_password1": "新的密码-Transformer",
            "new_password2": "新的密码-Transformer"}  # fmt: skip
    refused = client.post("/accounts/password/change/", data)
    assert refused.status_code == 200 and field_errors(page(refused), "old_password")
    done = client.post("/accounts/password/change/", {**data, "old_password": PASSWORD})
    assert done["Location"] == "/accounts/password/change/done/"
    assert "密码已修改" in page(client.get(done["Location"]))
    user.refresh_from_db()
    assert user.check_password("新的密码-Transformer")


def test_password_reset_by_email_link(client):
    user = UserFactory(username="zhouwu", email="zhouwu@example.com")
    response = client.post("/accounts/password/reset/", {"email": "zhouwu@example.com"})
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert len(mail.outbox) == 1 and "zhouwu" in mail.outbox[0].body
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body)
    form_page = client.get(link.group(1), follow=True)
    assert "设置新密码" in page(form_page)
    data = {"new_password1": "注意力机制-Attention", "new_password2": "注意力机制-Attention"}
    done = client.post(form_page.redirect_chain[-1][0], data)
    assert done["Location"] == "/accounts/password/reset/complete/"
    user.refresh_from_db()
    assert user.check_password("注意力机制-Attention")
    assert "链接已失效" in page(client.get(link.group(1), follow=True))


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox == []


# ---------- Profile settings ----------


def test_settings_need_login(client):
    response = client.get("/accounts/settings/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_saving_settings_applies_the_language(client, user):
    client.force_login(user)
    data = {"display_name": "小  明", "bio": "做多模态。", "preferred_language": "en"}
    response = client.post("/accounts/settings/", data)
    assert response["Location"] == "/en/accounts/settings/"
    assert response.cookies["django_language"].value == "en"
    user.refresh_from_db()
    assert (user.display_name, user.bio, user.preferred_language) == ("小 明", "做多模态。", "en")
    assert "Your profile is saved." in page(client.get(response["Location"]))
    back = client.post("/en/accounts/settings/", {**data, "preferred_language": "zh-hans"})
    assert back["Location"] == "/accounts/settings/"


@pytest.mark.parametrize(
    ("change", "field"),
    [({"display_name": "名" * 61}, "display_name"), ({"bio": "长" * 2001}, "bio"),
     ({"preferred_language": "fr"}, "preferred_language")],
)  # fmt: skip
def test_refused_settings_keep_the_text(client, user, change, field):
    client.force_login(user)
    data = {"display_name": "小明", "bio": "简介", "preferred_language": "", **change}
    response = client.post("/accounts/settings/", data)
    assert response.status_code == 200 and field_errors(page(response), field)
    assert data.get("bio", "") in page(response)
    user.refresh_from_db()
    assert user.display_name == ""


def test_settings_page_query_count(client, user, django_assert_num_queries):
    client.force_login(user)
    with django_assert_num_queries(3):  # session, user, the header's unread count
        assert client.get("/accounts/settings/").status_code == 200


# ---------- API tokens ----------


def test_token_is_shown_once_then_listed_by_prefix(client, user):
    client.force_login(user)
    response = client.post("/accounts/tokens/", {"name": "笔记本脚本"})
    assert response.status_code == 200
    key = re.search(r'id="new-key" type="text" value="([^"]+)"', page(response)).group(1)
    token = ApiToken.objects.get(user=user)
    assert token.key_hash == ApiToken.hash_key(key) and token.name == "笔记本脚本"
    assert "no-store" in response["Cache-Control"]
    listing = page(client.get("/accounts/tokens/"))
    assert "笔记本脚本" in listing and key[:8] in listing and key not in listing
    api = Client(headers={"authorization": f"Token {key}"})
    assert api.get("/api/v1/me/").json()["username"] == user.username


def test_token_needs_a_name(client, user):
    client.force_login(user)
    response = client.post("/accounts/tokens/", {"name": "   "})
    assert response.status_code == 200 and field_errors(page(response), "name")
    assert not ApiToken.objects.exists()


def test_revoke_own_token_only(client, user, other_user):
    mine, _key = token_create(user=user, name="mine")
    theirs, _key = token_create(user=other_user, name="theirs")
    client.force_login(user)
    assert client.post(f"/accounts/tokens/{theirs.pk}/revoke/").status_code == 404
    response = client.post(f"/accounts/tokens/{mine.pk}/revoke/", follow=True)
    assert "已吊销" in page(response)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None


def test_token_pages_need_login(client, user):
    token, _key = token_create(user=user, name="t")
    assert client.get("/accounts/tokens/")["Location"].startswith("/accounts/login/")
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is None


def test_token_page_query_count(client, user, django_assert_num_queries):
    for n in range(5):
        token_create(user=user, name=f"t{n}")
    client.force_login(user)
    with django_assert_num_queries(4):  # session, user, tokens, unread count
        assert client.get("/accounts/tokens/").status_code == 200


# ---------- Roles ----------


@pytest.mark.parametrize(("kind", "badge"), [("user", None), ("moderator", "版主"),
                                             ("staff", "管理员")])  # fmt: skip
def test_user_page_shows_the_role(client, kind, badge):
    member = {"user": lambda: UserFactory(username="member"),
              "moderator": lambda: moderator_create(username="member"),
              "staff": lambda: UserFactory(username="member", is_staff=True)}[kind]()  # fmt: skip
    html = page(client.get(f"/users/{member.username}/"))
    if badge:
        assert f"{badge}</span>" in html and "badge--role" in html
    else:
        assert "badge--role" not in html


def test_own_user_page_links_to_settings(client, user):
    assert "/accounts/settings/" not in page(client.get(f"/users/{user.username}/"))
    client.force_login(user)
    html = page(client.get(f"/users/{user.username}/"))
    assert 'href="/accounts/settings/"' in html and 'href="/accounts/tokens/"' in html


def test_sign_up_pages_query_counts(client, django_assert_max_num_queries):
    UserFactory(username="owner", email="taken@example.com")
    # username taken?, the address's owner, the insert, and two savepoints with their releases
    with django_assert_max_num_queries(7):
        client.post("/accounts/signup/", SIGNUP)
    with django_assert_max_num_queries(4):  # savepoint, username, owner, release: no insert
        client.post(
            "/accounts/signup/", {**SIGNUP, "username": "另一个", "email": "taken@example.com"}
        )
    with django_assert_max_num_queries(0):
        assert client.get("/accounts/signup/sent/").status_code == 200
