"""Every object the API returns carries its absolute API `url` and page `html_url`, built from
SITE_URL; both answer 200."""

import pytest
from django.core.cache import cache

from kb.services.comments import comment_create
from tests.factories import UserFactory, answer_make, question_make

pytestmark = pytest.mark.django_db
SITE = "https://mianjing.example"


@pytest.fixture(autouse=True)
def site(settings):
    cache.clear()
    settings.SITE_URL = SITE
    yield
    cache.clear()


def _follow(client, link: str):
    assert link.startswith(SITE + "/"), link
    path = link.removeprefix(SITE).split("#")[0]
    response = client.get(path)
    assert response.status_code == 200, (link, response.status_code)


def test_objects_carry_links_that_resolve(client):
    question = question_make(tags=["llm"])
    answer = answer_make(question=question)
    comment_create(actor=UserFactory(reputation=100), post=answer, body="评论:链接能用吗?")
    detail = client.get(f"/api/v1/questions/{question.pk}/").json()
    objects = [detail, detail["author"], *detail["answers"], detail["answers"][0]["author"]]
    objects += client.get(f"/api/v1/answers/{answer.pk}/comments/").json()["results"]
    objects += client.get("/api/v1/tags/").json()["results"]
    objects += client.get(f"/api/v1/questions/{question.pk}/revisions/").json()["results"]
    objects += client.get("/api/v1/questions/").json()["results"]
    for obj in objects:
        _follow(client, obj["html_url"])
        if "/api/v1/comments/" not in obj["url"]:  # that address takes PATCH and DELETE only
            _follow(client, obj["url"])
    answer_obj = detail["answers"][0]
    assert answer_obj["html_url"].endswith(f"/questions/{question.pk}/#answer-{answer.pk}")
    comment = objects[4]
    assert comment["html_url"].endswith(f"/questions/{question.pk}/#comment-{comment['id']}")
