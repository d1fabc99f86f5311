"""Security headers and the API lockout (issue 12): a strict Content-Security-Policy on every
response, no inline script in any page, and the django-axes lockout answering the API in JSON."""

import re

import pytest

from tests.factories import UserFactory, answer_make, question_make

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part
    }


@pytest.mark.parametrize(
    "url", ["/", "/en/", "/tags/", "/search/?q=rag", "/accounts/login/", "/api/v1/questions/",
            "/api/v1/docs/", "/no-such-page/"],
)  # fmt: skip
def test_every_response_carries_a_strict_csp(client, url):
    directives = policy(client.get(url))
    assert directives["default-src"] == ["'self'"]
    assert "script-src" not in directives  # scripts fall back to default-src 'self'
    assert not any("unsafe-inline" in v or "unsafe-eval" in v for vs in directives.values()
                   for v in vs)  # fmt: skip
    assert directives["frame-ancestors"] == ["'none'"]


def test_pages_hold_no_inline_script(client):
    member = UserFactory()
    question = question_make()
    answer_make(question=question)
    client.force_login(member)
    for url in ("/", question.get_absolute_url(), "/questions/ask/", "/api/v1/docs/"):
        html = client.get(url).content.decode()
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
        # JSON-LD is a data block browsers never run (CSP does not apply); the rest: files only.
        scripts = [(attrs, body) for attrs, body in scripts if "application/ld+json" not in attrs]
        assert scripts == [(attrs, "") for attrs, _ in scripts], url
        assert all("src=" in attrs for attrs, _ in scripts), url
        assert not re.search(r"\son[a-z]+=", html), url


def test_the_api_lockout_answers_429_json_with_retry_after(client):
    UserFactory(username="zhouwu")
    for _ in range(4):
        response = client.post(
            "/api/v1/auth/token/",
            {"username": "zhouwu", "password": "wrong", "name": "cli"},
            content_type="application/json",
        )
        assert response.status_code == 400
    locked = client.post(
        "/api/v1/auth/token/",
        {"username": "zhouwu", "password": "wrong", "name": "cli"},
        content_type="application/json",
    )
    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/json"
    error = locked.json()["error"]
    assert error["code"] == "locked_out" and error["retry_at"]
    assert 3500 <= int(locked["Retry-After"]) <= 3600
