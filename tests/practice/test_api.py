"""The practice API: next, reviews, stats, and a visitor browser's schedule and import, with their
permissions, bad input and query counts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from practice.models import PracticeCard
from practice.services import practice_review
from tests.factories import UserFactory, answer_make
from tests.practice.test_practice import practisable

pytestmark = pytest.mark.django_db


def test_next_answers_a_question_with_what_to_reveal_and_the_due_count(
    api_client, user, django_assert_num_queries
):
    question = practisable()
    answer = answer_make(question=question, body="最高票回答。")
    api_client.force_authenticate(user)
    # moderator check, due count, due card, new question, question, top answer
    with django_assert_num_queries(6):
        body = api_client.get("/api/v1/practice/next/", {"tags": "llm"}).json()
    assert body["due"] == 0
    assert body["question"]["id"] == question.pk
    assert body["question"]["key_points"] == ["要点"]
    assert body["question"]["top_answer"]["id"] == answer.pk
    assert set(body["question"]) >= {"title", "body_html", "short_answer", "common_mistakes",
                                     "follow_ups", "difficulty", "tags", "url"}  # fmt: skip


def test_next_for_a_member_counts_due_cards(api_client, user):
    question = practisable()
    practice_review(actor=user, question_id=question.pk, grade="again",
                    now=timezone.now() - timedelta(hours=1))  # fmt: skip
    api_client.force_authenticate(user)
    body = api_client.get("/api/v1/practice/next/").json()
    assert body == {**body, "due": 1} and body["question"]["id"] == question.pk


def test_next_for_a_visitor_uses_the_ids_it_sends(api_client):
    first, second = practisable(), practisable()
    body = api_client.get("/api/v1/practice/next/", {"seen": f"{first.pk}"}).json()
    assert body["question"]["id"] == second.pk and body["due"] == 0
    both = f"{first.pk},{second.pk}"
    body = api_client.get("/api/v1/practice/next/", {"due": f"{first.pk}", "seen": both}).json()
    assert body["question"]["id"] == first.pk and body["due"] == 1
    body = api_client.get("/api/v1/practice/next/", {"seen": f"{first.pk},{second.pk}"}).json()
    assert body == {"question": None, "due": 0}


def suspended() -> User:
    member = UserFactory()
    User.objects.filter(pk=member.pk).update(suspended_until=timezone.now() + timedelta(days=3))
    member.refresh_from_db()
    return member


@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", 401), ("suspended", 403), ("member", 201)],
)
def test_reviews_permission(api_client, who, expected):
    question = practisable()
    if who != "anonymous":
        api_client.force_authenticate(suspended() if who == "suspended" else UserFactory())
    payload = {"question": question.pk, "grade": "good"}
    response = api_client.post("/api/v1/practice/reviews/", payload, format="json")
    assert response.status_code == expected
    assert PracticeCard.objects.exists() == (expected == 201)
    if expected != 201:
        assert "error" in response.json()


@pytest.mark.parametrize(
    "payload",
    [
        {"question": 1, "grade": "great"},
        {"question": 1, "grade": 3},
        {"question": 1},
        {"grade": "good"},
        {"question": "一", "grade": "good"},
        {"question": 987654, "grade": "good"},
    ],
    ids=["unknown grade", "number grade", "no grade", "no question", "bad id", "no such question"],
)
def test_reviews_bad_input_is_400_and_stores_nothing(api_client, user, payload):
    question = practisable()
    payload = {k: (question.pk if v == 1 else v) for k, v in payload.items()}
    api_client.force_authenticate(user)
    response = api_client.post("/api/v1/practice/reviews/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]
    assert not PracticeCard.objects.exists()


def test_review_answers_the_card_and_the_query_count_is_fixed(
    api_client, user, django_assert_num_queries
):
    question = practisable()
    api_client.force_authenticate(user)
    payload = {"question": question.pk, "grade": "easy"}
    # savepoint, question, card get-or-create (select, savepoint, insert, release), card
    # update, review insert, earliest due, user update, release
    with django_assert_num_queries(11):
        response = api_client.post("/api/v1/practice/reviews/", payload, format="json")
    body = response.json()
    assert response.status_code == 201
    assert body["state"] == "review" and body["review_count"] == 1


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 401), ("suspended", 403),
                                               ("member", 200)])  # fmt: skip
def test_stats_permission(api_client, who, expected):
    if who != "anonymous":
        api_client.force_authenticate(suspended() if who == "suspended" else UserFactory())
    assert api_client.get("/api/v1/practice/stats/").status_code == expected


def test_stats_per_tag(api_client, user, django_assert_num_queries):
    question = practisable(tags=("llm", "rag"))
    practice_review(actor=user, question_id=question.pk, grade="good", now=timezone.now())
    api_client.force_authenticate(user)
    with django_assert_num_queries(5):
        body = api_client.get("/api/v1/practice/stats/").json()
    assert body["seen"] == 1 and body["retention"] is None
    assert {t["name"]: t["seen"] for t in body["tags"]} == {"llm": 1, "rag": 1}
    assert len(body["days"]) == 30 and body["days"][-1]["reviews"] == 1


def test_schedule_is_open_to_visitors_and_stores_nothing(api_client):
    response = api_client.post("/api/v1/practice/schedule/", {"card": None, "grade": "easy"},
                               format="json")  # fmt: skip
    assert response.status_code == 200
    card = response.json()
    assert card["state"] == 2 and card["stability"] > 0
    again = api_client.post("/api/v1/practice/schedule/", {"card": card, "grade": "again"},
                            format="json")  # fmt: skip
    assert again.json()["state"] == 3
    bad = api_client.post("/api/v1/practice/schedule/", {"card": {"state": 9}, "grade": "good"},
                          format="json")  # fmt: skip
    assert bad.status_code == 400 and not PracticeCard.objects.exists()


def test_import_needs_an_account(api_client, user):
    question = practisable()
    card = {"question": question.pk, "state": 2, "step": None, "stability": 8.0,
            "difficulty": 2.0, "due": "2026-03-09T09:00:00+00:00",
            "last_review": "2026-03-01T09:00:00+00:00", "reviews": []}  # fmt: skip
    assert api_client.post("/api/v1/practice/import/", {"cards": [card]},
                           format="json").status_code == 401  # fmt: skip
    api_client.force_authenticate(user)
    response = api_client.post("/api/v1/practice/import/", {"cards": [card]}, format="json")
    assert response.json() == {"imported": 1, "kept": 0}


def test_practice_endpoints_are_in_the_schema(api_client):
    schema = api_client.get("/api/v1/schema/", {"format": "json"}).json()
    for path in ("next", "reviews", "stats", "schedule", "import"):
        assert f"/api/v1/practice/{path}/" in schema["paths"]
    detail = schema["components"]["schemas"]["QuestionDetail"]["properties"]
    assert {"difficulty", "short_answer", "key_points", "common_mistakes", "follow_ups"} <= set(
        detail
    )


def test_next_refuses_an_unknown_difficulty(client):
    response = client.get("/api/v1/practice/next/", {"difficulty": "hardest"})
    assert response.status_code == 400
    assert "difficulty" in response.json()["error"]["fields"]
    assert client.get("/api/v1/practice/next/", {"difficulty": "basic"}).status_code == 200


# --- "My watched tags" (the notifications app's TagPreference) ---


@pytest.fixture
def watched_and_other():
    watched = practisable(tags=("rag",))
    other = practisable(tags=("llm",))
    answer_make(question=other, body="另一个标签下的问题的回答。")
    other.score = 10  # the other question would come first without the filter
    other.save(update_fields=["score"])
    return watched, other


def test_next_with_watched_practises_the_tags_the_member_watches(
    api_client, user, watched_and_other, django_assert_num_queries
):
    from notifications.services import tag_preferences_set

    watched, _other = watched_and_other
    tag_preferences_set(actor=user, watched=["rag"], ignored=[])
    api_client.force_authenticate(user)
    # the watched tags, moderator check, due count, due card, new question, question, top answer
    with django_assert_num_queries(7):
        body = api_client.get("/api/v1/practice/next/", {"watched": "1"}).json()
    assert body["question"]["id"] == watched.pk
    assert api_client.get("/api/v1/practice/next/").json()["question"]["id"] == _other.pk


def test_watched_adds_to_the_chosen_tags(api_client, user, watched_and_other):
    from notifications.services import tag_preferences_set

    watched, other = watched_and_other
    tag_preferences_set(actor=user, watched=["rag"], ignored=[])
    api_client.force_authenticate(user)
    body = api_client.get("/api/v1/practice/next/", {"watched": "1", "tags": "llm"}).json()
    assert body["question"]["id"] == other.pk  # both tags: the higher score first
    practice_review(actor=user, question_id=other.pk, grade="easy", now=timezone.now())
    body = api_client.get("/api/v1/practice/next/", {"watched": "1", "tags": "llm"}).json()
    assert body["question"]["id"] == watched.pk


@pytest.mark.parametrize(
    ("who", "value", "message"),
    [
        ("visitor", "1", "Log in to practise the tags you watch."),
        ("member without watched tags", "1", "You watch no tags yet"),
        ("member", "yes", "Give 1"),
    ],
)
def test_watched_refusals_are_400(api_client, user, who, value, message):
    from notifications.services import tag_preferences_set

    practisable(tags=("rag",))
    if who != "visitor":
        api_client.force_authenticate(user)
    if who == "member":
        tag_preferences_set(actor=user, watched=["rag"], ignored=[])
    response = api_client.get(
        "/api/v1/practice/next/", {"watched": value}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["watched"][0].startswith(message)


def test_watched_is_in_the_schema(api_client):
    schema = api_client.get("/api/v1/schema/", {"format": "json"}).json()
    parameters = schema["paths"]["/api/v1/practice/next/"]["get"]["parameters"]
    assert "watched" in {parameter["name"] for parameter in parameters}
