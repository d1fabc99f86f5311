"""Conditional GETs: ETag / Last-Modified on the API's reads and the anonymous question page;
a 304 costs at most one query and changes of any kind the response shows change the ETag."""

import time
from email.utils import parsedate_to_datetime

import pytest
from django.core.cache import cache
from django.utils.http import http_date

from accounts.models import User
from kb.services.comments import comment_create
from kb.services.edits import post_edit
from kb.services.moderation import post_delete
from kb.services.tags import tag_upsert
from kb.templatetags.kb_pages import question_url
from tests.factories import UserFactory, answer_make, question_make

# The validators themselves (writes here skip on_commit, which moves the page cache's versions);
# the cached API detail keeps its ETag and 304 too: tests/kb/test_api_cache.py.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache_off")]


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock(monkeypatch):
    """The conditional layer's clock, moved by hand: `clock.advance(seconds)`."""

    class Clock:
        now = time.time()

        def advance(self, seconds: float) -> None:
            self.now += seconds

    fixed = Clock()
    monkeypatch.setattr("kb.conditional.clock", lambda: fixed.now)
    return fixed


@pytest.fixture
def thread(user):
    question = question_make(author=user, tags=["llm", "rag"])
    answer = answer_make(question=question)
    return question, answer


def _urls(question, answer, user):
    q, a = question.pk, answer.pk
    return [
        "/api/v1/questions/",
        "/api/v1/questions/?page_size=1",
        f"/api/v1/questions/{q}/",
        f"/api/v1/questions/{q}/answers/",
        f"/api/v1/questions/{q}/comments/",
        f"/api/v1/questions/{q}/revisions/",
        f"/api/v1/questions/{q}/revisions/1/",
        f"/api/v1/answers/{a}/",
        f"/api/v1/answers/{a}/comments/",
        f"/api/v1/answers/{a}/revisions/",
        "/api/v1/tags/",
        "/api/v1/tags/llm/",
        f"/api/v1/users/{user.username}/",
    ]


def test_every_read_endpoint_answers_304_with_at_most_one_query(
    client, thread, user, clock, django_assert_max_num_queries
):
    question, answer = thread
    for url in _urls(question, answer, user):
        client.get(url)  # first seen now: no Last-Modified within this second
    clock.advance(2)
    for url in _urls(question, answer, user):
        first = client.get(url)
        assert first.status_code == 200, url
        etag = first["ETag"]
        assert etag.startswith('"') and not etag.startswith("W/"), url  # strong
        assert first["Last-Modified"], url
        with django_assert_max_num_queries(1):
            again = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == 304, url
        assert again.content == b"" and again["ETag"] == etag, url
        with django_assert_max_num_queries(1):
            since = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
        assert since.status_code == 304, url


def _seconds(header: str) -> int:
    return int(parsedate_to_datetime(header).timestamp())


def _accept(question, answer, user):
    from kb.services.votes import answer_accept

    answer_accept(actor=question.author, answer=answer)


@pytest.mark.parametrize(
    "write", [lambda *a: _vote(*a), lambda *a: _reputation(*a), lambda *a: _accept(*a)]
)
def test_last_modified_moves_with_writes_that_move_no_timestamp(client, thread, user, clock, write):
    """A vote, an accept or a new reputation changes no updated_at, but does change what the
    response shows: If-Modified-Since with the earlier date must get the new body."""
    question, answer = thread
    url = f"/api/v1/questions/{question.pk}/"
    client.get(url)
    clock.advance(2)
    before = client.get(url)
    write(question, answer, user)
    clock.advance(2)
    after = client.get(url, HTTP_IF_MODIFIED_SINCE=before["Last-Modified"])
    assert after.status_code == 200
    assert after.json() != before.json()
    clock.advance(2)
    changed = client.get(url)["Last-Modified"]
    assert _seconds(changed) > _seconds(before["Last-Modified"])
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=changed).status_code == 304


def test_last_modified_is_to_the_second(client, thread, clock):
    question, _ = thread
    url = f"/api/v1/questions/{question.pk}/"
    client.get(url)
    clock.advance(2)
    stamp = _seconds(client.get(url)["Last-Modified"])
    earlier = http_date(stamp - 1)
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=earlier).status_code == 200
    for since in (stamp, stamp + 1):
        assert client.get(url, HTTP_IF_MODIFIED_SINCE=http_date(since)).status_code == 304


def test_no_last_modified_in_the_second_of_a_change(client, thread, user, clock):
    """Two changes within one second would share a date; while the newest change is in the
    current second the response has no Last-Modified, so no client holds that date."""
    question, answer = thread
    url = f"/api/v1/questions/{question.pk}/"
    client.get(url)
    clock.advance(2)
    dated = client.get(url)
    assert dated["Last-Modified"]
    _vote(question, answer, user)
    fresh = client.get(url, HTTP_IF_MODIFIED_SINCE=dated["Last-Modified"])
    assert fresh.status_code == 200 and "Last-Modified" not in fresh and fresh["ETag"]


def test_a_change_undone_is_still_a_change(client, thread, user, clock):
    """Vote then retract: the rows are as before, yet a client holding the voted copy (dated
    after the original) must get the body again."""
    from kb.services.votes import vote_cast, vote_retract

    question, answer = thread
    url = f"/api/v1/questions/{question.pk}/"
    client.get(url)
    voter = UserFactory(reputation=1000)
    vote_cast(actor=voter, post=answer, value=1)
    clock.advance(2)
    client.get(url)
    clock.advance(2)
    voted = client.get(url)
    vote_retract(actor=voter, post=answer)
    clock.advance(2)
    again = client.get(url, HTTP_IF_MODIFIED_SINCE=voted["Last-Modified"])
    assert again.status_code == 200 and again.json()["answers"][0]["score"] == 0


def test_a_stale_etag_gets_the_full_body(client, thread):
    question, _ = thread
    url = f"/api/v1/questions/{question.pk}/"
    response = client.get(url, HTTP_IF_NONE_MATCH='"not-the-etag"')
    assert response.status_code == 200 and response.json()["id"] == question.pk


def _etag(client, url, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.content[:200])
    return response["ETag"]


# Each write changes what a thread's responses show, so each must change their ETag.
def _edit(question, answer, user):
    post_edit(actor=question.author, post=question, base_revision=1, body="新的正文:改过了。",
              title=None, tags=None, summary="")  # fmt: skip


def _comment(question, answer, user):
    comment_create(actor=UserFactory(reputation=100), post=answer, body="评论:很有帮助的回答。")


def _vote(question, answer, user):
    from kb.services.votes import vote_cast

    vote_cast(actor=UserFactory(reputation=1000), post=answer, value=1)


def _reputation(question, answer, user):
    User.objects.filter(pk=answer.author_id).update(reputation=777)


def _delete_answer(question, answer, user):
    from tests.factories import moderator_create

    post_delete(actor=moderator_create(), post=answer)


def _views(question, answer, user):
    type(question).objects.filter(pk=question.pk).update(view_count=42)


def _question_vote(question, answer, user):
    from kb.services.votes import vote_cast

    vote_cast(actor=UserFactory(reputation=1000), post=question, value=1)


THREAD_WRITES = [_edit, _comment, _vote, _question_vote, _reputation, _delete_answer, _views]
# The list shows no answer scores, comments or answer authors: those writes rightly keep its ETag.
LIST_WRITES = [_edit, _question_vote, _delete_answer, _views]


@pytest.mark.parametrize(
    ("path", "write"),
    [("/api/v1/questions/{q}/", w) for w in THREAD_WRITES]
    + [("/api/v1/answers/{a}/comments/", w) for w in THREAD_WRITES if w is not _delete_answer]
    + [("/api/v1/questions/", w) for w in LIST_WRITES],
)
def test_writes_change_the_etag(client, thread, user, write, path):
    question, answer = thread
    url = path.format(q=question.pk, a=answer.pk)
    before = _etag(client, url)
    write(question, answer, user)
    response = client.get(url, HTTP_IF_NONE_MATCH=before)
    assert response.status_code == 200
    assert response["ETag"] != before


def test_a_write_elsewhere_keeps_the_etag(client, thread, user, django_assert_max_num_queries):
    question, _ = thread
    url = f"/api/v1/questions/{question.pk}/"
    before = _etag(client, url)
    question_make(title="另一个问题:和这个无关吗?")
    with django_assert_max_num_queries(1):
        assert client.get(url, HTTP_IF_NONE_MATCH=before).status_code == 304


def test_tag_and_user_etags_follow_their_rows(client, thread, user):
    tags_before = _etag(client, "/api/v1/tags/")
    tag_upsert(name="llm", description="大语言模型。")
    assert _etag(client, "/api/v1/tags/") != tags_before
    user_url = f"/api/v1/users/{user.username}/"
    user_before = _etag(client, user_url)
    User.objects.filter(pk=user.pk).update(display_name="新名字")
    assert _etag(client, user_url) != user_before


def test_etag_differs_by_viewer_language_and_query(client, thread, user):
    question, _ = thread
    url = f"/api/v1/questions/{question.pk}/"
    anonymous = _etag(client, url)
    assert _etag(client, url, HTTP_ACCEPT_LANGUAGE="en") != anonymous
    assert _etag(client, url + "?x=1") != anonymous
    client.force_login(user)
    assert _etag(client, url) != anonymous


def test_a_question_hidden_since_is_404_not_304(client, thread, moderator):
    question, _ = thread
    url = f"/api/v1/questions/{question.pk}/"
    etag = _etag(client, url)
    post_delete(actor=moderator, post=question)
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 404


def test_anonymous_question_page_answers_304(
    client, thread, user, clock, django_assert_max_num_queries
):
    question, _ = thread
    url = question_url(question)
    client.get(url, HTTP_IF_NONE_MATCH='"other"')
    clock.advance(2)
    first = client.get(url, HTTP_IF_NONE_MATCH='"other"')
    assert first.status_code == 200
    etag = first["ETag"]
    with django_assert_max_num_queries(1):
        again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    with django_assert_max_num_queries(1):
        since = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304
    english = client.get("/en" + url, HTTP_IF_NONE_MATCH=etag)
    assert english.status_code == 200 and english["ETag"] != etag
    answer_make(question=question)
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200
    client.force_login(user)
    member = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert member.status_code == 200 and "ETag" not in member
