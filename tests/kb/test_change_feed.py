"""GET /api/v1/changes/: the change feed. Replaying it from zero, while writers commit in any
order, ends with exactly the public dump's questions, answers, comments and tags."""

import json
import threading

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from rest_framework.throttling import AnonRateThrottle

from kb.dump import dump_lines
from kb.services.comments import comment_create
from kb.services.edits import post_edit
from kb.services.moderation import post_delete, post_undelete, question_merge
from kb.services.votes import vote_cast
from tests.factories import UserFactory, answer_make, moderator_create, question_make

KINDS = {"question", "answer", "comment", "tag"}


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _feed(client, since="0", limit=100):
    response = client.get("/api/v1/changes/", {"since": since, "limit": limit})
    assert response.status_code == 200, response.content
    return response.json()


def _replay(client, mirror: dict, since: str = "0", limit: int = 7) -> str:
    """Apply pages until the feed has no more; the cursor to continue from."""
    while True:
        page = _feed(client, since, limit)
        for change in page["results"]:
            key = (change["kind"], change["id"])
            if change["tombstone"]:
                mirror.pop(key, None)
            else:
                mirror[key] = change["record"]
        since = page["cursor"]
        if not page["has_more"]:
            return since


def _public_dump() -> dict:
    records = (json.loads(line) for line in dump_lines(public=True))
    return {(r["type"], r["id"]): r for r in records if r["type"] in KINDS}


@pytest.mark.django_db(transaction=True)  # the feed serves committed changes only
def test_feed_lists_changes_with_records_and_tombstones(client):
    author = UserFactory()
    question = question_make(author=author, tags=["llm"])
    answer = answer_make(question=question)
    comment_create(actor=UserFactory(reputation=100), post=answer, body="评论:说得对。")
    post_edit(actor=author, post=question, base_revision=1, body="改过的正文。", title=None,
              tags=None, summary="")  # fmt: skip
    moderator = moderator_create()
    post_delete(actor=moderator, post=answer)
    changes = _feed(client)["results"]
    seen = [(c["kind"], c["id"], c["action"]) for c in changes]
    assert ("question", question.pk, "created") in seen
    assert ("answer", answer.pk, "created") in seen
    assert ("question", question.pk, "edited") in seen
    assert ("answer", answer.pk, "deleted") in seen
    assert seen.index(("answer", answer.pk, "created")) < seen.index(
        ("answer", answer.pk, "deleted")
    )
    answer_rows = [c for c in changes if c["kind"] == "answer"]
    assert all(c["tombstone"] and c["record"] is None for c in answer_rows)
    comment_rows = [c for c in changes if c["kind"] == "comment"]
    assert comment_rows[-1]["action"] == "deleted" and comment_rows[-1]["tombstone"]
    question_row = next(c for c in changes if c["kind"] == "question")
    assert question_row["record"]["body"] == "改过的正文。"
    cursor = _feed(client)["cursor"]
    post_undelete(actor=moderator, post=answer)
    later = _feed(client, since=cursor)["results"]
    assert ("answer", answer.pk, "undeleted") in [(c["kind"], c["id"], c["action"]) for c in later]


@pytest.mark.django_db(transaction=True)  # the feed serves committed changes only
def test_merge_and_votes_are_changes(client):
    moderator = moderator_create()
    source, target = question_make(), question_make()
    answer = answer_make(question=source)
    cursor = _feed(client)["cursor"]
    vote_cast(actor=UserFactory(reputation=1000), post=answer, value=1)
    question_merge(actor=moderator, question=source, into=target)
    seen = {(c["kind"], c["id"], c["action"]) for c in _feed(client, cursor)["results"]}
    assert ("answer", answer.pk, "edited") in seen  # its score
    assert ("answer", answer.pk, "merged") in seen
    assert ("question", source.pk, "merged") in seen


@pytest.mark.django_db(transaction=True)  # the feed serves committed changes only
def test_paging_neither_skips_nor_repeats(client):
    for _ in range(5):
        answer_make(question=question_make(tags=["llm", "rag"]))
    everything = _feed(client, limit=1000)["results"]
    paged, since = [], "0"
    while True:
        page = _feed(client, since, 3)
        paged += page["results"]
        since = page["cursor"]
        if not page["has_more"]:
            break
        assert page["next"].endswith(f"since={since}&limit=3") or "since=" in page["next"]
    assert [c["cursor"] for c in paged] == [c["cursor"] for c in everything]
    assert _feed(client, since)["results"] == []


@pytest.mark.django_db(transaction=True)  # the feed serves committed changes only
@pytest.mark.parametrize("query", [{"since": "abc"}, {"since": "1-"}, {"limit": "0"},
                                   {"limit": "1001"}, {"limit": "x"}])  # fmt: skip
def test_bad_cursor_or_limit_is_400(client, query):
    response = client.get("/api/v1/changes/", query)
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == set(query)


@pytest.mark.django_db(transaction=True)  # the feed serves committed changes only
def test_feed_query_count_does_not_grow_with_changes(client, django_assert_num_queries):
    for _ in range(3):
        question = question_make(tags=["llm"])
        answer = answer_make(question=question)
        comment_create(actor=UserFactory(reputation=100), post=question, body="评论:好问题。")
    # the changes, then one query per kind present (question, answer, comment, tag)
    with django_assert_num_queries(5):
        assert len(_feed(client, limit=1000)["results"]) > 9
    assert answer.pk


def _in_threads(*tasks):
    errors = []

    def run(task):
        try:
            task()
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(task,)) for task in tasks]
    for thread in threads:
        thread.start()
    return threads, errors


@pytest.mark.django_db(transaction=True)
def test_a_transaction_that_commits_late_is_not_skipped():
    """A starts first (smaller xid) and commits after B; a reader between the two commits must
    not move its cursor past A's change."""
    client = Client()
    author = UserFactory()
    started, release = threading.Event(), threading.Event()
    created = {}

    def slow():
        with transaction.atomic():
            created["slow"] = question_make(
                author=author, title="慢事务:先开始后提交?", body="慢事务的正文。", tags=["slow"]
            )
            started.set()
            release.wait(30)

    threads, errors = _in_threads(slow)
    assert started.wait(30)
    # (another author, tag and words: shared rows would make this write wait for the slow one)
    fast = question_make(author=UserFactory(), title="快事务:后开始先提交?", body="快事务的正文。",
                         tags=["fast"])  # fmt: skip
    mirror: dict = {}
    cursor = _replay(client, mirror)
    assert ("question", fast.pk) not in mirror  # held back behind the open transaction
    release.set()
    for thread in threads:
        thread.join(30)
    assert not errors
    _replay(client, mirror, cursor)
    assert ("question", created["slow"].pk) in mirror and ("question", fast.pk) in mirror
    assert mirror == _public_dump()


@pytest.mark.django_db(transaction=True)
def test_replaying_the_feed_with_concurrent_writers_gives_the_public_dump(monkeypatch):
    # The reader polls as fast as it can while the writers work: lift the anonymous API
    # throttle (its rates are read from this dict) so that polling is not refused.
    monkeypatch.setitem(AnonRateThrottle.THROTTLE_RATES, "anon", "1000000/min")
    client = Client()
    authors = [UserFactory(reputation=1000) for _ in range(4)]
    moderator = moderator_create()
    base = [question_make(tags=["llm", "rag"]) for _ in range(3)]
    done = threading.Event()
    mirror: dict = {}

    def writer(n):
        def work():
            author = authors[n]
            for i in range(4):
                with transaction.atomic():
                    question = question_make(author=author, tags=["llm", f"t{n}"],
                                             title=f"并发问题 {n}-{i}:会丢吗?")  # fmt: skip
                    answer = answer_make(question=base[i % 3], author=author)
                comment_create(actor=author, post=question, body=f"评论 {n}-{i}:好。")
                vote_cast(actor=author, post=base[(i + 1) % 3], value=1 if i % 2 else -1)
                if i == 1:
                    post_delete(actor=moderator, post=answer)
                if i == 2:
                    post_edit(actor=author, post=question, base_revision=1, title=None,
                              body=f"并发修改 {n}:正文。", tags=["rag"], summary="")  # fmt: skip
                if i == 3 and n == 0:
                    post_delete(actor=moderator, post=question)

        return work

    def reader():
        cursor = "0"
        while not done.is_set():
            cursor = _replay(client, mirror, cursor, limit=5)
        reader_state["cursor"] = cursor

    reader_state: dict = {}
    writers, errors = _in_threads(*(writer(n) for n in range(4)))
    readers, reader_errors = _in_threads(reader)
    for thread in writers:
        thread.join(120)
    done.set()
    for thread in readers:
        thread.join(120)
    assert not errors and not reader_errors, errors + reader_errors
    _replay(client, mirror, reader_state["cursor"])
    dump = _public_dump()
    assert len(dump) > 30
    assert mirror == dump


@pytest.mark.django_db
def test_updated_since_filters_questions_and_answers(client, django_assert_max_num_queries):
    from datetime import timedelta

    from django.utils import timezone

    from kb.models import Answer, Question

    old, new = question_make(), question_make()
    long_ago = timezone.now() - timedelta(days=30)
    Question.objects.filter(pk=old.pk).update(updated_at=long_ago, last_activity_at=long_ago)
    stale, fresh = answer_make(question=new), answer_make(question=new)
    Answer.objects.filter(pk=stale.pk).update(updated_at=long_ago)
    since = (timezone.now() - timedelta(days=1)).isoformat()
    with django_assert_max_num_queries(3):
        body = client.get("/api/v1/questions/", {"updated_since": since}).json()
    assert [q["id"] for q in body["results"]] == [new.pk]
    answers = client.get(f"/api/v1/questions/{new.pk}/answers/", {"updated_since": since}).json()
    assert [a["id"] for a in answers["results"]] == [fresh.pk]
    bad = client.get(f"/api/v1/questions/{new.pk}/answers/", {"updated_since": "yesterday"})
    assert bad.status_code == 400 and "updated_since" in bad.json()["error"]["fields"]
    assert client.get("/api/v1/questions/", {"updated_since": "nope"}).status_code == 400
