"""The load test's after-run checks (bench/loadcheck.py) on a real database: they pass on what the
services left and each catches its broken invariant. Locust itself runs in `make loadtest` only."""

from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import User
from bench import generate, loadcheck, loadtest
from kb.models import Answer, Question, Vote
from kb.services import page_cache as versions

TINY = generate.Plan(questions=12, users=20, tags=30, seed=11)


def _client(member: dict) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {member['token']}")
    return client


def _sql(statement: str, parameters=(), *, past_triggers: bool = False) -> None:
    """Tamper with rows behind the services' back; `past_triggers` gets past the append-only
    triggers on revisions (as a restore or a hand-edit by a superuser could)."""
    with connection.cursor() as cursor:
        if past_triggers:
            cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(statement, parameters)
        finally:
            if past_triggers:
                cursor.execute("SET session_replication_role = DEFAULT")


@pytest.fixture
def site(db, settings):
    """A generated site, two load-test members and one write of each kind through the API,
    recorded as bench/locustfile.py records them; then anonymous pages read into the cache."""
    settings.PAGE_CACHE_ENABLED = True
    generate.generate(TINY)
    first, second = loadtest.members_create(2)
    question = Question.objects.filter(status=Question.Status.OPEN).order_by("pk").first()
    other = Answer.objects.filter(question=question, is_deleted=False).order_by("pk").first()
    records = {"answers": [], "comments": [], "edits": [], "votes": []}

    body = "A load-test answer: attention is quadratic in the sequence length."
    response = _client(first).post(
        f"/api/v1/questions/{question.pk}/answers/", {"body": body}, format="json"
    )
    assert response.status_code == 201, response.content
    answer_id = response.json()["id"]
    records["answers"].append(
        {"member": first["username"], "id": answer_id, "question_id": question.pk, "body": body}
    )

    body = "A load-test comment."
    response = _client(second).post(
        f"/api/v1/answers/{answer_id}/comments/", {"body": body}, format="json"
    )
    assert response.status_code == 201, response.content
    records["comments"].append(
        {"member": second["username"], "id": response.json()["id"], "kind": "answer",
         "post_id": answer_id, "body": body}
    )  # fmt: skip

    response = _client(second).patch(
        f"/api/v1/answers/{other.pk}/",
        {"base_revision": other.revision_count, "body": other.body + "\n\nEdited (m4rk3r).",
         "summary": "load test"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    records["edits"].append(
        {"member": second["username"], "kind": "answer", "post_id": other.pk, "marker": "m4rk3r",
         "number": response.json()["revision"]["number"], "status": response.json()["status"]}
    )  # fmt: skip

    for sequence, (member, kind, post_id, value) in enumerate(
        [
            (second, "answer", answer_id, 1),
            (first, "question", question.pk, 1),
            (first, "question", question.pk, -1),  # changed: the last answer counts
            (second, "answer", other.pk, 1),
        ]
    ):
        response = _client(member).post(
            f"/api/v1/{kind}s/{post_id}/vote/", {"value": value}, format="json"
        )
        assert response.status_code == 200, response.content
        records["votes"].append(
            {"member": member["username"], "kind": kind, "post_id": post_id,
             "value": response.json()["vote"], "sequence": sequence}
        )  # fmt: skip

    tag = question.tags.order_by("name").first().name
    paths = [
        f"/questions/{question.pk}/",
        f"/en/questions/{question.pk}/",
        "/",
        "/?tab=top",
        f"/tags/{quote(tag, safe='')}/",
        "/tags/?sort=name",
        f"/users/{quote(question.author.username, safe='')}/",
    ]
    anonymous = APIClient()
    for path in paths:
        response = anonymous.get(path)
        assert response.status_code == 200, path
        assert response["X-Page-Cache"] == "miss"
    return {"records": records, "paths": paths, "question": question, "answer_id": answer_id,
            "members": (first, second)}  # fmt: skip


def test_consistent_site_passes_every_check(site):
    assert loadcheck.missing_writes(site["records"]) == []
    assert loadcheck.database_problems(render_sample=None) == []
    assert loadcheck.ledger_problems() == []
    pages = loadcheck.cached_page_check(site["paths"])
    assert pages.problems == []
    assert (pages.compared, pages.absent, pages.superseded) == (len(site["paths"]), 0, 0)


def test_cache_key_is_the_one_the_page_cache_stored(site):
    for path in site["paths"]:
        assert cache.get(loadcheck.cache_key_of(path)) is not None, path


def test_tampered_score_fails_the_score_checks(site):
    _sql("UPDATE kb_answer SET score = score + 1 WHERE id = %s", [site["answer_id"]])
    assert any(
        line.startswith("answer score is the sum of its votes")
        for line in loadcheck.database_problems(render_sample=0)
    )
    answer = Answer.objects.get(pk=site["answer_id"])
    assert loadcheck.ledger_problems()[0] == (
        f"answer score of {answer.pk}: stored {answer.score}, rows give {answer.score - 1}"
    )


def test_tampered_reputation_fails_the_ledger_check(site):
    first, _second = site["members"]
    _sql("UPDATE accounts_user SET reputation = reputation + 10 WHERE id = %s", [first["id"]])
    user = User.objects.get(pk=first["id"])
    assert loadcheck.ledger_problems() == [
        f"reputation of {user.pk}: stored {user.reputation}, rows give {user.reputation - 10}",
        "reconcile_reputation: 1 differences (run with --fix to repair).",
    ]


def test_revision_gap_fails_the_revision_check(site):
    edit = site["records"]["edits"][0]
    _sql(
        "UPDATE kb_revision SET number = number + 1 WHERE answer_id = %s AND number = %s",
        [edit["post_id"], edit["number"]],
        past_triggers=True,
    )
    problems = loadcheck.database_problems(render_sample=0)
    assert any(line.startswith("revision numbers run 1..n without gaps") for line in problems)


def test_comment_revision_gap_fails_the_comment_revision_check(site):
    comment_id = site["records"]["comments"][0]["id"]
    _sql(
        "UPDATE kb_commentrevision SET number = 2 WHERE comment_id = %s",
        [comment_id],
        past_triggers=True,
    )
    problems = loadcheck.database_problems(render_sample=0)
    assert problems == [f"comment revision numbers run 1..n without gaps: e.g. [{comment_id}]"]


def _lose_comment(site):
    comment_id = site["records"]["comments"][0]["id"]
    for table, column in (
        ("notifications_notification", "comment_id"),
        ("kb_commentrevision", "comment_id"),
        ("kb_comment", "id"),
    ):
        _sql(f"DELETE FROM {table} WHERE {column} = %s", [comment_id], past_triggers=True)  # noqa: S608
    return f"comment {comment_id} (201 to {site['members'][1]['username']}) is missing"


def _change_answer(site):
    """What was posted (the answer's first revision) is not what is stored."""
    answer_id = site["answer_id"]
    _sql(
        "UPDATE kb_revision SET body = 'Something else.' WHERE answer_id = %s AND number = 1",
        [answer_id],
        past_triggers=True,
    )
    return f"answer {answer_id} is not what {site['members'][0]['username']} posted"


def _lose_vote(site):
    """The vote changed to -1 (answered 200) but the stored row still says +1."""
    first = site["members"][0]
    question = site["question"]
    Vote.objects.filter(question=question, user_id=first["id"]).update(value=1)
    return f"{first['username']}'s vote on question {question.pk}: answered -1, stored 1"


def _lose_edit(site):
    edit = site["records"]["edits"][0]
    _sql(
        "UPDATE kb_revision SET body = 'Someone else''s.' WHERE answer_id = %s AND number = %s",
        [edit["post_id"], edit["number"]],
        past_triggers=True,
    )
    return f"answer {edit['post_id']} revision {edit['number']} is not {edit['member']}'s edit"


@pytest.mark.parametrize("lose", [_lose_comment, _change_answer, _lose_vote, _lose_edit])
def test_a_lost_write_fails_the_writes_check(site, lose):
    expected = lose(site)
    assert loadcheck.missing_writes(site["records"]) == [expected]


def test_an_answer_its_author_edited_since_is_still_what_they_posted(site):
    """A member may edit their own answer of the run (locustfile's `_post`): the answer's body
    is then the edit, and the posting is its first revision."""
    first = site["members"][0]
    answer = Answer.objects.get(pk=site["answer_id"])
    response = _client(first).patch(
        f"/api/v1/answers/{answer.pk}/",
        {"base_revision": answer.revision_count, "body": answer.body + "\n\nEdited (0wn3r).",
         "summary": "load test"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    site["records"]["edits"].append(
        {"member": first["username"], "kind": "answer", "post_id": answer.pk, "marker": "0wn3r",
         "number": response.json()["revision"]["number"], "status": response.json()["status"]}
    )  # fmt: skip
    assert "0wn3r" in Answer.objects.get(pk=answer.pk).body
    assert loadcheck.missing_writes(site["records"]) == []


def test_a_retracted_vote_is_expected_absent(site):
    first, _second = site["members"]
    question = site["question"]
    response = _client(first).delete(f"/api/v1/questions/{question.pk}/vote/")
    assert response.status_code == 200
    site["records"]["votes"].append(
        {"member": first["username"], "kind": "question", "post_id": question.pk,
         "value": response.json()["vote"], "sequence": 99}
    )  # fmt: skip
    assert response.json()["vote"] is None
    assert loadcheck.missing_writes(site["records"]) == []
    Vote.objects.create(user_id=first["id"], question=question, value=1)  # behind the service
    assert loadcheck.missing_writes(site["records"]) == [
        f"{first['username']}'s vote on question {question.pk}: answered None, stored 1"
    ]


def test_deleted_cache_entry_is_not_compared_and_passes(site):
    path = f"/questions/{site['question'].pk}/"
    cache.delete(loadcheck.cache_key_of(path))
    pages = loadcheck.cached_page_check(site["paths"])
    assert pages.problems == []
    assert (pages.compared, pages.absent) == (len(site["paths"]) - 1, 1)


def test_tampered_cached_page_fails_the_page_check(site):
    path = f"/questions/{site['question'].pk}/"
    key = loadcheck.cache_key_of(path)
    entry = cache.get(key)
    entry["content"] = entry["content"].replace(b"</main>", b"<p>stale</p></main>", 1)
    cache.set(key, entry)
    pages = loadcheck.cached_page_check(site["paths"])
    assert len(pages.problems) == 1
    assert pages.problems[0].startswith(f"{path}: the cached page differs from a fresh render")
    assert "stale" in pages.problems[0]


def test_change_without_a_version_bump_fails_the_page_check(site):
    """A write that forgot to move the versions: the served page is stale, and the check says so."""
    question = site["question"]
    Question.objects.filter(pk=question.pk).update(title="A title changed behind the cache")
    pages = loadcheck.cached_page_check([f"/questions/{question.pk}/"])
    assert len(pages.problems) == 1
    assert "A title changed behind the cache" in pages.problems[0]


def test_superseded_entry_is_skipped(site):
    question = site["question"]
    versions._bump_now([versions.question_key(question.pk)])  # what a write's on_commit does
    pages = loadcheck.cached_page_check(
        [f"/questions/{question.pk}/", f"/en/questions/{question.pk}/"]
    )
    assert (pages.compared, pages.superseded, pages.problems) == (0, 2, [])


# --- the report and the verdict ---


def test_percentile_is_the_nearest_rank():
    values = list(range(1, 101))  # 1..100
    assert loadtest.percentile(values, 0.5) == 50
    assert loadtest.percentile(values, 0.99) == 99
    assert loadtest.percentile([7.0], 0.99) == 7.0
    assert loadtest.percentile([3, 1, 2], 0.5) == 2


def _requests(*statuses, kind="read: question"):
    return [[kind, 10.0, status, ""] for status in statuses]


def test_summary_counts_statuses_per_kind_and_in_total():
    rows = loadtest.summarise(
        _requests(200, 200, 404) + _requests(201, 500, 0, kind="answer"), seconds=2
    )
    by_kind = {row["kind"]: row for row in rows}
    assert (by_kind["read: question"]["ok"], by_kind["read: question"]["4xx"]) == (2, 1)
    assert (by_kind["answer"]["5xx"], by_kind["answer"]["no_response"]) == (1, 1)
    assert rows[-1]["kind"] == "**all**"
    assert (rows[-1]["requests"], rows[-1]["per_second"]) == (6, 3.0)


def test_a_single_5xx_fails_the_run():
    passing = loadtest.summarise(_requests(200, 404, 429), seconds=1)
    assert loadtest.verdict(passing, [], {"a check": []}) == []
    failing = loadtest.summarise(_requests(200, 502), seconds=1)
    assert loadtest.verdict(failing, [], {"a check": []}) == ["1 responses were 5xx"]


def test_no_response_a_script_error_or_a_failed_check_fails_the_run():
    rows = loadtest.summarise(_requests(200, 0), seconds=1)
    assert loadtest.verdict(rows, ["vote: KeyError"], {"pages": ["/x: differs"]}) == [
        "1 requests got no response",
        "1 errors in the load script, e.g. ['vote: KeyError']",
        "pages: /x: differs",
    ]


def test_a_write_kind_never_accepted_is_reported():
    rows = loadtest.summarise(_requests(403, 403, kind="vote") + _requests(201, kind="answer"), 1)
    assert loadtest.writes_accepted(rows) == ["no vote was accepted (2 refused)"]


def test_refusals_are_counted_per_kind_and_status():
    requests = _requests(409, 409, 201, kind="edit") + _requests(429, 200, kind="vote")
    assert loadtest.refusals(requests) == "edit 409 ×2, vote 429 ×1"
