"""Atom feeds: valid Atom 1.0, public content only, sanitised HTML, canonical links, both
languages, advertised with <link rel="alternate">."""

import xml.etree.ElementTree as ET

import pytest

from kb.services.edits import post_edit
from kb.services.moderation import post_delete
from tests.factories import TagFactory, UserFactory, answer_make, moderator_create, question_make

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def atom(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)  # noqa: S314 (our own response)
    assert root.tag == f"{ATOM}feed"
    # RFC 4287: a feed has id, title, updated; every entry id, title, updated and a link.
    for name in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{name}") is not None, name
    entries = root.findall(f"{ATOM}entry")
    for entry in entries:
        for name in ("id", "title", "updated", "link"):
            assert entry.find(f"{ATOM}{name}") is not None, name
    return root, entries


def test_newest_questions_feed_carries_sanitised_html_and_canonical_links(client):
    question = question_make(
        title="为什么 softmax 要减去最大值", body="数值稳定:$e^{x-m}$ <b>粗体</b>"
    )
    deleted = question_make(title="这个问题已被删除了哦")
    post_delete(actor=moderator_create(), post=deleted, reason="spam")
    root, entries = atom(client.get("/feeds/questions/"))
    titles = [e.find(f"{ATOM}title").text for e in entries]
    assert question.title in titles and deleted.title not in titles
    entry = entries[titles.index(question.title)]
    link = entry.find(f"{ATOM}link").get("href")
    assert link == f"http://testserver/questions/{question.pk}/" + link.split("/")[-2] + "/"
    content = entry.find(f"{ATOM}summary").text
    assert "<math" in content and "<b>" not in content and "&lt;b&gt;" in content


def test_a_tag_feed_lists_that_tags_questions_only(client):
    TagFactory(name="rlhf")
    inside = question_make(title="DPO 的损失函数怎么推导", tags=("rlhf",))
    outside = question_make(title="位置编码有哪几种做法", tags=("llm",))
    _root, entries = atom(client.get("/feeds/tags/rlhf/"))
    titles = [e.find(f"{ATOM}title").text for e in entries]
    assert inside.title in titles and outside.title not in titles
    assert client.get("/feeds/tags/nosuchtag/").status_code == 404


def test_a_question_feed_has_its_answers_and_edits(client):
    question = question_make()
    answer = answer_make(question=question)
    body = question.body + "\n\n补充"
    post_edit(actor=question.author, post=question, base_revision=1, body=body, summary="补充说明")
    _root, entries = atom(client.get(f"/feeds/questions/{question.pk}/"))
    links = [e.find(f"{ATOM}link").get("href") for e in entries]
    assert any(link.endswith(f"#answer-{answer.pk}") for link in links)
    assert any(link.endswith(f"/questions/{question.pk}/revisions/#revision-2") for link in links)
    post_delete(actor=moderator_create(), post=question, reason="spam")
    assert client.get(f"/feeds/questions/{question.pk}/").status_code == 404


def test_a_user_feed_has_their_questions_and_answers(client):
    member = UserFactory(username="lin")
    question = question_make(author=member)
    answer = answer_make(question=question_make(), author=member)
    _root, entries = atom(client.get("/feeds/users/lin/"))
    links = [e.find(f"{ATOM}link").get("href") for e in entries]
    assert len(links) == 2 and any(link.endswith(f"#answer-{answer.pk}") for link in links)
    assert any(f"/questions/{question.pk}/" in link for link in links)


def test_feeds_come_in_english_too(client):
    question_make()
    root, _entries = atom(client.get("/en/feeds/questions/"))
    assert root.find(f"{ATOM}title").text == "Mianjing: newest questions"


def test_pages_advertise_their_feed(client):
    question = question_make(tags=("llm",))
    home = client.get("/").content.decode()
    assert (
        '<link rel="alternate" type="application/atom+xml"' in home and "/feeds/questions/" in home
    )
    page = client.get(f"/questions/{question.pk}/").content.decode()
    assert f'href="/feeds/questions/{question.pk}/"' in page
    assert 'href="/feeds/tags/llm/"' in client.get("/tags/llm/").content.decode()
    user_page = client.get(f"/users/{question.author.username}/").content.decode()
    assert f'href="/feeds/users/{question.author.username}/"' in user_page
    assert 'href="/en/feeds/questions/"' in client.get("/en/").content.decode()


def test_feed_query_count(client, django_assert_max_num_queries):
    for _ in range(5):
        question_make()
    with django_assert_max_num_queries(2):
        client.get("/feeds/questions/")
