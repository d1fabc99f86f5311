"""The anonymous page cache (kb/views/page_cache.py): a second anonymous GET is served without a
query, and after every kind of write the next anonymous GET shows the write. The writes go through
the services, and their on_commit callbacks run as a commit would run them
(`django_capture_on_commit_callbacks(execute=True)`): the versions move only then."""

import re

import pytest
from django.test import Client

from accounts.services import profile_update
from kb.models import Question
from kb.rules import rule
from kb.services.answers import answer_create
from kb.services.closing import question_close
from kb.services.comments import comment_create, comment_delete, comment_edit
from kb.services.edits import post_edit
from kb.services.flags import flag_create
from kb.services.moderation import post_delete, post_lock, post_undelete
from kb.services.tags import tag_upsert
from kb.services.views import question_view_record, question_views_flush
from kb.services.votes import answer_accept, vote_cast
from tests.factories import UserFactory, answer_make, moderator_create, question_make

pytestmark = pytest.mark.django_db

HIT = "X-Page-Cache"
ANSWER_COUNT = '<span class="stat__number">{}</span>\n      <span class="stat__label">answer'


def qurl(question) -> str:
    """The English question page, without its slug (an edited title changes the slug)."""
    return f"/en/questions/{question.pk}/"


def get(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response


def cached(client, url) -> str:
    """GET twice: the second answer must come from the cache; its text."""
    get(client, url)
    response = get(client, url)
    assert response[HIT] == "hit", url
    return response.content.decode()


@pytest.fixture
def world(db):
    author = UserFactory(username="zhangsan", display_name="张三")
    question = question_make(
        author=author, title="KV cache 为什么能加速解码?", body="原始正文", tags=("llm",)
    )
    answer = answer_make(question=question, body="第一个回答的正文")
    return {"author": author, "question": question, "answer": answer, "mod": moderator_create()}


def pages(world) -> dict[str, str]:
    question = world["question"]
    return {
        "question": qurl(question),
        "home": "/en/",
        "tag": "/en/tags/llm/",
        "tags": "/en/tags/",
        "user": f"/en/users/{world['author'].username}/",
        "answerer": f"/en/users/{world['answer'].author.username}/",
    }


# Each row: a write through its service, then for each page that must change, a check.
def _edit(w):
    post_edit(actor=w["author"], post=w["question"], base_revision=1, body="改过的正文",
              title="KV cache 如何加速自回归解码?", tags=["llm", "inference"])  # fmt: skip
    return {
        "question": "改过的正文",
        "home": "KV cache 如何加速自回归解码?",
        "tag": "KV cache 如何加速自回归解码?",
        "user": "KV cache 如何加速自回归解码?",
        "tags": 'href="/en/tags/inference/"',
    }


def _answer(w):
    answer_create(actor=UserFactory(), question=w["question"], body="第二个回答:缓存键值")
    return {"question": "第二个回答:缓存键值", "home": ANSWER_COUNT.format(2)}


def _comment(w):
    comment_create(actor=UserFactory(), post=w["answer"], body="评论:那显存呢?")
    return {"question": "评论:那显存呢?"}


def _comment_edit(w):
    comment = comment_create(actor=w["author"], post=w["question"], body="最初的评论文字")
    return lambda: (comment_edit(actor=w["author"], comment=comment, body="改过的评论文字"),
                    {"question": "改过的评论文字"})[1]  # fmt: skip


def _comment_delete(w):
    comment = comment_create(actor=w["author"], post=w["question"], body="将被删除的评论")
    return lambda: (comment_delete(actor=w["author"], comment=comment),
                    {"question": ("not", "将被删除的评论")})[1]  # fmt: skip


def _vote(w):
    vote_cast(actor=w["mod"], post=w["question"], value=1)
    return {"question": "1 vote", "home": 'title="Score">\n      <span class="stat__number">1<'}


def _accept(w):
    answer_accept(actor=w["author"], answer=w["answer"])
    return {"question": "answer--accepted", "home": "stat--accepted"}


def _close(w):
    question_close(actor=w["mod"], question=w["question"], reason="off_topic")
    return {"question": "This question is closed.", "home": '<span class="badge">closed</span>'}


def _delete_answer(w):
    post_delete(actor=w["mod"], post=w["answer"])
    return {"question": ("not", "第一个回答的正文"), "home": ANSWER_COUNT.format(0)}


def _undelete_answer(w):
    post_delete(actor=w["mod"], post=w["answer"])
    return lambda: (post_undelete(actor=w["mod"], post=w["answer"]),
                    {"question": "第一个回答的正文"})[1]  # fmt: skip


def _lock(w):
    post_lock(actor=w["mod"], post=w["question"], reason="编辑战", days=1)
    return {"question": "This question is locked."}


def _flag_hides(w):
    for _ in range(rule("FLAGS_TO_HIDE")):
        flag_create(actor=UserFactory(), target=w["answer"], reason="spam")
    return {"question": ("not", "第一个回答的正文")}


def _tag_change(w):
    tag_upsert(name="llm", description="大语言模型的新说明")
    return {"tag": "大语言模型的新说明", "tags": "大语言模型的新说明"}


def _rename(w):
    profile_update(actor=w["author"], display_name="张三丰", bio="", preferred_language="")
    return {"question": "张三丰", "home": "张三丰", "tag": "张三丰", "user": "张三丰"}


def _reputation(w):
    # A vote on the author's answer to ANOTHER question: the author's card on this page changes.
    other = question_make(title="另一个问题:注意力")
    their_answer = answer_make(question=other, author=w["answerer"], body="别处的回答")
    vote_cast(actor=w["mod"], post=their_answer, value=1)
    gained = rule("REPUTATION_ANSWER_UPVOTED")  # the ledger's sum (the floor of 1 was above it)
    return {"question": f"Reputation </span>{gained}</span>", "answerer": "另一个问题:注意力"}


def _views(w):
    question_view_record(question_id=w["question"].pk, visitor="someone-else")
    question_views_flush()
    # the reader's own first view (counted when the page was first rendered) and this one
    return {"question": "Viewed 2 times"}


WRITES = {
    "edit": _edit,
    "answer": _answer,
    "comment": _comment,
    "comment edit": _comment_edit,
    "comment delete": _comment_delete,
    "vote": _vote,
    "accept": _accept,
    "close": _close,
    "delete": _delete_answer,
    "undelete": _undelete_answer,
    "lock": _lock,
    "flag that hides": _flag_hides,
    "tag change": _tag_change,
    "rename": _rename,
    "reputation": _reputation,
    "view count": _views,
}


@pytest.mark.parametrize("kind", WRITES)
def test_next_anonymous_get_shows_each_kind_of_write(
    kind, world, settings, django_capture_on_commit_callbacks
):
    settings.VIEW_FLUSH_EVERY = 10**6  # rules read settings; the view test flushes by hand
    world["answerer"] = world["answer"].author
    client = Client()
    urls = pages(world)
    write = WRITES[kind]
    with django_capture_on_commit_callbacks(execute=True):
        prepared = write(world) if kind in {"comment edit", "comment delete", "undelete"} else None
    before = {name: cached(client, url) for name, url in urls.items()}
    with django_capture_on_commit_callbacks(execute=True):
        expectations = prepared() if prepared else write(world)
    assert expectations
    for name, expected in expectations.items():
        response = get(client, urls[name])
        text = response.content.decode()
        if isinstance(expected, tuple):
            assert expected[1] in before[name], (name, "the page showed it before")
            assert expected[1] not in text, (kind, name)
        else:
            assert expected not in before[name], (name, "the check must see a change")
            assert expected in text, (kind, name)
        assert response[HIT] == "miss", (kind, name)


def test_a_write_leaves_unrelated_pages_cached(world, django_capture_on_commit_callbacks):
    other = question_make(title="无关的问题:位置编码", tags=("rope",))  # not even related
    client = Client()
    cached(client, qurl(other))
    with django_capture_on_commit_callbacks(execute=True):
        comment_create(actor=UserFactory(), post=world["question"], body="只影响一个页面的评论")
    assert get(client, qurl(other))[HIT] == "hit"
    assert get(client, qurl(world["question"]))[HIT] == "miss"


def test_a_vote_shows_on_the_pages_that_list_the_post_as_related(
    world, django_capture_on_commit_callbacks
):
    """A question page shows related questions' scores but not their authors, so only the voted
    post's own version (not its author's reputation) can tell the page to change."""
    related = question_make(author=UserFactory(), title="KV cache 的显存占用怎么估算?")
    client = Client()
    url = qurl(world["question"])
    score = 'related__score" title="Score">{}</span>\\s*<a href="/en/questions/{}/'
    assert re.search(score.format(0, related.pk), cached(client, url))
    with django_capture_on_commit_callbacks(execute=True):
        vote_cast(actor=world["mod"], post=related, value=1)
    response = get(client, url)
    assert response[HIT] == "miss"
    assert re.search(score.format(1, related.pk), response.content.decode())


def test_versions_move_on_commit_only(world, django_capture_on_commit_callbacks):
    """Before the write's transaction commits, readers still get the old page (they could not
    read the new rows yet); the commit moves the version."""
    client = Client()
    url = qurl(world["question"])
    cached(client, url)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        comment_create(actor=UserFactory(), post=world["question"], body="还没提交的评论")
    assert get(client, url)[HIT] == "hit"
    for callback in callbacks:
        callback()
    assert "还没提交的评论" in get(client, url).content.decode()


@pytest.mark.parametrize(
    "url",
    ["/", "/en/", "/?tab=votes", "/en/tags/", "/en/tags/llm/", "/en/users/zhangsan/", "QUESTION"],
)
def test_a_hit_costs_no_query(url, world, django_assert_num_queries):
    if url == "QUESTION":
        url = qurl(world["question"])
    client = Client()
    assert get(client, url)[HIT] == "miss"
    with django_assert_num_queries(0):
        response = get(client, url)
    assert response[HIT] == "hit"


def test_a_conditional_request_is_answered_from_the_current_entry_without_a_query(
    world, django_assert_num_queries, django_capture_on_commit_callbacks
):
    client = Client()
    url = qurl(world["question"])
    first = get(client, url)
    etag = first["ETag"]
    with django_assert_num_queries(0):
        again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert (again.status_code, again[HIT], again["ETag"]) == (304, "hit", etag)
    assert client.get(url, HTTP_IF_NONE_MATCH='"another"').status_code == 200
    # After a write the entry is not current: the view answers, with the new page.
    with django_capture_on_commit_callbacks(execute=True):
        comment_create(actor=world["mod"], post=world["question"], body="新的评论让页面改变了")
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed[HIT] == "miss"
    assert changed["ETag"] != etag and "新的评论让页面改变了" in changed.content.decode()


def test_anonymous_pages_carry_no_visitor_state_and_may_be_shared(world):
    client = Client()
    for url in ["/en/", qurl(world["question"]), "/en/tags/llm/"]:
        for expected in ("miss", "hit"):
            response = get(client, url)
            assert response[HIT] == expected
            assert not response.cookies, url  # no csrftoken, no session
            control = response["Cache-Control"]
            assert "public" in control and "s-maxage=10" in control and "max-age=0" in control
            assert "Cookie" in response["Vary"]  # a shared cache keeps members apart
            assert "csrfmiddlewaretoken" not in response.content.decode()


def test_chinese_and_english_pages_are_cached_apart(world):
    client = Client()
    zh = cached(client, "/")
    en = cached(client, "/en/")
    assert 'lang="zh-Hans"' in zh and 'lang="en"' in en
    # An English visitor asking for the Chinese address is still sent to /en/, not served zh.
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get("/")
    assert response.status_code == 302 and response["Location"] == "/en/"


def test_members_never_get_the_anonymous_page(world):
    anonymous = Client()
    cached(anonymous, "/en/")
    member = Client()
    member.force_login(world["author"])
    response = member.get("/en/")
    assert response.status_code == 200
    assert response[HIT] == "miss"  # their own entry (tests/kb/test_member_pages.py)
    assert "private" in response["Cache-Control"]
    assert "Log out" in response.content.decode()
    # and what the member saw was not stored for anonymous visitors
    assert "Log out" not in get(anonymous, "/en/").content.decode()


def test_question_views_are_counted_on_hits(world, django_capture_on_commit_callbacks):
    url = qurl(world["question"])
    for agent in ("browser-a", "browser-b", "browser-c"):
        Client(HTTP_USER_AGENT=agent).get(url)
    with django_capture_on_commit_callbacks(execute=True):
        assert question_views_flush() == 3
    assert Question.objects.get(pk=world["question"].pk).view_count == 3
    assert "Viewed 3 times" in get(Client(), url).content.decode()


def test_wrong_slugs_and_missing_pages_are_not_cached(world):
    client = Client()
    question = world["question"]
    assert client.get(f"/en/questions/{question.pk}/wrong-slug/").status_code == 301
    assert client.get(f"/en/questions/{question.pk}/wrong-slug/").status_code == 301
    assert client.get("/en/questions/999999/").status_code == 404
    assert HIT not in client.get("/en/questions/999999/")


def test_deleted_question_is_gone_for_anonymous_readers(world, django_capture_on_commit_callbacks):
    client = Client()
    url = qurl(world["question"])
    cached(client, url)
    home = cached(client, "/en/")
    assert world["question"].title in home
    with django_capture_on_commit_callbacks(execute=True):
        post_delete(actor=world["mod"], post=world["question"])
    gone = client.get(url)
    assert gone.status_code == 410 and HIT not in gone  # "Gone", and never cached
    assert world["question"].title not in get(client, "/en/").content.decode()


def test_relative_times_are_left_to_the_browser(world):
    html = cached(Client(), qurl(world["question"]))
    assert re.search(r'<time datetime="[^"]+" title="[^"]+" data-relative>[A-Z][a-z]+\.? \d', html)
    assert not re.search(r"\b(ago|now|minutes?|seconds?)\b", html)
    assert '<script src="/static/kb/time.js" defer></script>' in html


# --- Deep pages: joins and subqueries for the shown rows only ---------------------------------


@pytest.mark.usefixtures("page_cache_off")
def test_deep_pages_read_tag_names_and_authors_for_the_shown_rows_only(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    titles = [f"翻页问题 {n:02d} 号:深页" for n in range(65)]
    for title in titles:
        question_make(title=title, tags=("llm",))
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/en/?page=3")
    assert [q.title for q in response.context["page"].object_list] == titles[::-1][60:65]
    (rows,) = [q["sql"] for q in queries.captured_queries if "ARRAY(" in q["sql"]]
    outer, inner = rows.split(" IN (SELECT", 1)
    assert "OFFSET" not in outer and "accounts_user" in outer  # authors joined for 5 rows only
    assert "LIMIT 5 OFFSET 60" in inner and "ARRAY(" not in inner and "accounts_user" not in inner
    assert len(queries.captured_queries) == 2
