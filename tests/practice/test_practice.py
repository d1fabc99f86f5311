"""Practice mode: grading through the service and the API, the next question, the header's due
count, progress, a visitor's import, permissions and query counts."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from kb.models import Question
from practice.models import CardState, PracticeCard, PracticeReview
from practice.selectors import practice_next, practice_progress
from practice.services import practice_import, practice_review
from tests.factories import UserFactory, answer_make

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def practisable(tags=("llm",), difficulty="", key_points=("要点",)):
    from kb.services.questions import question_create

    return question_create(
        actor=UserFactory(),
        title=f"练习题 {Question.objects.count() + 1}: 注意力为什么要缩放?",
        body="请解释。",
        tags=list(tags),
        interview={"difficulty": difficulty, "key_points": list(key_points)},
    )


def test_grading_creates_a_card_a_review_and_the_users_next_due_time(user):
    question = practisable()
    card = practice_review(actor=user, question_id=question.pk, grade="good", now=NOW)
    assert card.due == NOW + timedelta(minutes=10) and card.state == CardState.LEARNING
    assert PracticeReview.objects.get(card=card).state_before == CardState.LEARNING
    user.refresh_from_db()
    assert user.practice_due_at == card.due


def test_the_second_grade_updates_the_same_card(user):
    question = practisable()
    practice_review(actor=user, question_id=question.pk, grade="good", now=NOW)
    later = NOW + timedelta(minutes=10)
    card = practice_review(actor=user, question_id=question.pk, grade="good", now=later)
    assert PracticeCard.objects.count() == 1 and card.review_count == 2
    assert card.state == CardState.REVIEW and card.due == later + timedelta(days=2)


@pytest.mark.parametrize("grade", ["great", "", "5", None, "0"])
def test_an_unknown_grade_is_refused(user, grade):
    question = practisable()
    with pytest.raises(ValidationError) as error:
        practice_review(actor=user, question_id=question.pk, grade=grade, now=NOW)
    assert "grade" in error.value.message_dict
    assert not PracticeCard.objects.exists()


def test_a_deleted_question_cannot_be_practised(user):
    question = practisable()
    Question.objects.filter(pk=question.pk).update(status=Question.Status.DELETED)
    with pytest.raises(ValidationError):
        practice_review(actor=user, question_id=question.pk, grade="good", now=NOW)


def test_visitors_and_suspended_members_keep_no_schedule(user):
    from django.contrib.auth.models import AnonymousUser

    question = practisable()
    with pytest.raises(PermissionDenied):
        practice_review(actor=AnonymousUser(), question_id=question.pk, grade="good", now=NOW)
    User.objects.filter(pk=user.pk).update(suspended_until=timezone.now() + timedelta(days=1))
    user.refresh_from_db()
    with pytest.raises(PermissionDenied):
        practice_review(actor=user, question_id=question.pk, grade="good", now=NOW)


def test_next_gives_the_due_card_first_then_new_questions_by_score(user):
    low, high = practisable(), practisable()
    Question.objects.filter(pk=high.pk).update(score=5)
    assert practice_next(viewer=user, now=NOW).question.pk == high.pk
    practice_review(actor=user, question_id=high.pk, grade="again", now=NOW)
    pick = practice_next(viewer=user, now=NOW)
    assert pick.question.pk == low.pk and pick.is_new and pick.due == 0
    pick = practice_next(viewer=user, now=NOW + timedelta(minutes=1))
    assert pick.question.pk == high.pk and pick.due == 1 and not pick.is_new


def test_next_keeps_to_the_tags_and_difficulty(user):
    practisable(tags=("rag",), difficulty="basic")
    wanted = practisable(tags=("llm", "attention"), difficulty="advanced")
    practisable(tags=("attention",), difficulty="basic")
    unanswerable = practisable(tags=("attention",), difficulty="advanced", key_points=())
    pick = practice_next(viewer=user, now=NOW, tags=["attention"], difficulty="advanced")
    assert pick.question.pk == wanted.pk
    answer_make(question=unanswerable)  # now it has something to reveal
    practice_review(actor=user, question_id=wanted.pk, grade="easy", now=NOW)
    pick = practice_next(viewer=user, now=NOW, tags=["attention"], difficulty="advanced")
    assert pick.question.pk == unanswerable.pk


def test_a_visitors_next_comes_from_the_due_and_seen_ids_it_sends(db):
    from django.contrib.auth.models import AnonymousUser

    first, second, third = practisable(), practisable(), practisable()
    visitor = AnonymousUser()
    pick = practice_next(viewer=visitor, now=NOW, due_ids=[second.pk], seen_ids=[first.pk])
    assert pick.question.pk == second.pk and pick.due == 1
    pick = practice_next(viewer=visitor, now=NOW, seen_ids=[first.pk, second.pk])
    assert pick.question.pk == third.pk and pick.is_new


def test_progress_counts_seen_due_and_retention_per_tag(user):
    rag, llm = practisable(tags=("rag",)), practisable(tags=("llm", "rag"))
    for question in (rag, llm):
        practice_review(actor=user, question_id=question.pk, grade="easy", now=NOW)
    later = NOW + timedelta(days=9)
    practice_review(actor=user, question_id=rag.pk, grade="again", now=later)
    practice_review(actor=user, question_id=llm.pk, grade="good", now=later)
    progress = practice_progress(viewer=user, now=later)
    tags = {t.name: t for t in progress.tags}
    assert (tags["rag"].seen, tags["rag"].reviews, tags["rag"].passed) == (2, 2, 1)
    assert (tags["llm"].seen, tags["llm"].retention) == (1, 1.0)
    assert tags["rag"].due == 0  # both were just graded
    assert (progress.seen, progress.reviews, progress.passed) == (2, 2, 1)
    assert sum(day.reviews for day in progress.days) == 4


@pytest.mark.django_db
@pytest.mark.parametrize("hour_utc,local_day", [(15, date(2026, 3, 1)), (16, date(2026, 3, 2))])
def test_progress_days_are_calendar_days_in_the_sites_time_zone(
    settings, user, hour_utc, local_day
):
    # Asia/Shanghai is UTC+8: 16:00 UTC is already the next day there.
    settings.TIME_ZONE = "Asia/Shanghai"
    now = datetime(2026, 3, 1, hour_utc, 30, tzinfo=UTC)
    practice_review(actor=user, question_id=practisable().pk, grade="good", now=now)
    days = practice_progress(viewer=user, now=now).days
    assert days[-1].day == local_day and days[-1].reviews == 1


# --- The header's due count ---


def _queries(client, url) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_header_due_count_costs_one_query_only_when_something_is_due(client, user, settings):
    # The render's cost; a member's cached page counts the badge anew the same way
    # (tests/kb/test_member_pages.py).
    settings.MEMBER_PAGE_CACHE_ENABLED = False
    question = practisable()
    anonymous, html = _queries(client, "/en/tags/")
    assert "data-practice-due" not in html
    client.force_login(user)
    never, html = _queries(client, "/en/tags/")
    assert "data-practice-due" not in html
    practice_review(actor=user, question_id=question.pk, grade="easy", now=timezone.now())
    not_due, html = _queries(client, "/en/tags/")
    assert not_due == never and "data-practice-due" not in html
    practice_review(actor=user, question_id=question.pk, grade="easy",
                    now=timezone.now() - timedelta(days=60))  # fmt: skip
    due, html = _queries(client, "/en/tags/")
    assert due == never + 1
    assert 'data-practice-due title="due today">1<' in html
    client.logout()
    # Signed out again: no due count, and no query for it (the page may even come from the
    # anonymous page cache, with none at all).
    after, html = _queries(client, "/en/tags/")
    assert after <= anonymous and "data-practice-due" not in html


# --- Pages ---


def test_practice_page_shows_a_question_with_its_reveal_and_grade_buttons(
    client, user, django_assert_num_queries
):
    question = practisable()
    answer_make(question=question, body="最高票回答:缩放让 softmax 不饱和。")
    client.force_login(user)
    # session, user, moderator check (visibility), due count, due card, new question, question,
    # top answer, tag choices (nothing due yet: the header counts nothing), the inbox's unread
    # count in the header
    with django_assert_num_queries(10):
        response = client.get("/en/practice/", {"tags": "llm"})
    html = response.content.decode()
    assert question.title in html and "最高票回答" in html
    assert html.count('name="grade"') == 4 and 'data-key="1"' in html


def test_practice_page_query_count_does_not_grow_with_cards(client, user,
                                                           django_assert_num_queries):  # fmt: skip
    past = timezone.now() - timedelta(days=1)
    for _ in range(5):
        q = practisable()
        answer_make(question=q)
        practice_review(actor=user, question_id=q.pk, grade="again", now=past)
    client.force_login(user)
    # session, user, header due count, moderator check, due count, due card, question, top
    # answer, tag choices, the inbox's unread count in the header
    with django_assert_num_queries(10):
        response = client.get("/practice/")
    assert response.context["pick"].due == 5


def test_anonymous_practice_page_queries(client, django_assert_num_queries):
    practisable()
    # tag choices, the asked due ids, new question, question, top answer
    with django_assert_num_queries(4):
        response = client.get("/practice/", {"tags": "llm"})
    assert 'data-mode="local"' in response.content.decode()


def test_grade_form_records_the_grade_and_goes_to_the_next_question(client, user):
    question = practisable()
    client.force_login(user)
    response = client.post("/practice/grade/", {"question": question.pk, "grade": "good",
                                                "tags": "llm", "difficulty": ""})  # fmt: skip
    assert response.status_code == 302 and response["Location"] == "/practice/?tags=llm"
    assert PracticeCard.objects.get(user=user).review_count == 1


def test_grade_form_from_a_visitor_stores_nothing(client):
    question = practisable()
    response = client.post("/practice/grade/", {"question": question.pk, "grade": "good"})
    assert response.status_code == 302 and not PracticeCard.objects.exists()


def test_progress_page_draws_a_chart_and_a_row_per_tag(client, user, django_assert_num_queries):
    question = practisable(tags=("llm", "rag"))
    practice_review(actor=user, question_id=question.pk, grade="again", now=timezone.now())
    client.force_login(user)
    # session, user, five progress queries (graded "again" a moment ago: due in a minute, so the
    # header counts nothing), the inbox's unread count in the header
    with django_assert_num_queries(8):
        response = client.get("/en/practice/progress/")
    html = response.content.decode()
    assert "<svg" in html and 'class="progress-chart__again"' in html
    assert ">rag</a>" in html and ">llm</a>" in html


def test_sheet_puts_follow_ups_first_and_answers_after(client, django_assert_num_queries):
    from kb.services.questions import question_create

    question = question_create(
        actor=UserFactory(), title="手写注意力:为什么除以根号 d_k?", body="请推导。", tags=["llm"],
        interview={"key_points": ["方差为 d_k"], "short_answer": "防止 softmax 饱和。",
                   "follow_ups": [{"text": "掩码加在哪里?", "question_id": None}]},
    )  # fmt: skip
    response = client.get("/en/practice/sheet/", {"tags": "llm", "count": 3})
    assert response.status_code == 302 and "seed=" in response["Location"]
    with django_assert_num_queries(3):  # tag choices, candidates, chosen questions
        html = client.get(response["Location"]).content.decode()
    answers = html.index('class="sheet__answers"')
    assert html.index("掩码加在哪里?") < answers < html.index("方差为 d_k")
    assert question.title in html
    again = client.get(response["Location"]).content.decode()
    start = html.index('class="sheet__questions"')
    assert again[start:] == html[start:]  # the same link gives the same sheet


def test_sheet_is_translated(client):
    practisable()
    assert "模拟面试" in client.get("/practice/sheet/?count=2&seed=1").content.decode()
    assert "Mock interview" in client.get("/en/practice/sheet/?count=2&seed=1").content.decode()


# --- Import of a visitor's schedule ---


def _browser_card(question, **overrides) -> dict:
    card = {"question": question.pk, "state": 2, "step": None, "stability": 8.3,
            "difficulty": 2.1, "due": "2026-03-09T09:00:00+00:00",
            "last_review": "2026-03-01T09:00:00+00:00",
            "reviews": [{"grade": "easy", "at": "2026-03-01T09:00:00+00:00",
                         "state_before": 1}]}  # fmt: skip
    card.update(overrides)
    return card


def test_import_brings_a_browser_schedule_into_the_account(user):
    first, second = practisable(), practisable()
    result = practice_import(actor=user, cards=[_browser_card(first), _browser_card(second)],
                             now=NOW)  # fmt: skip
    assert (result.imported, result.kept) == (2, 0)
    card = PracticeCard.objects.get(user=user, question=first)
    assert card.state == CardState.REVIEW and card.due == datetime(2026, 3, 9, 9, tzinfo=UTC)
    assert card.reviews.get().grade == 4
    user.refresh_from_db()
    assert user.practice_due_at == datetime(2026, 3, 9, 9, tzinfo=UTC)


def test_import_keeps_a_newer_account_card(user):
    question = practisable()
    practice_review(actor=user, question_id=question.pk, grade="again",
                    now=datetime(2026, 3, 5, tzinfo=UTC))  # fmt: skip
    result = practice_import(actor=user, cards=[_browser_card(question)], now=NOW)
    assert (result.imported, result.kept) == (0, 1)
    assert PracticeCard.objects.get().state == CardState.LEARNING


BAD_CARDS = {
    "state": {"state": 7},
    "stability": {"stability": -1},
    "difficulty": {"difficulty": 11},
    "due": {"due": "明天"},
    "naive time": {"last_review": "2026-03-01T09:00:00"},
    "grade": {"reviews": [{"grade": "great", "at": "2026-03-01T09:00:00+00:00"}]},
}


@pytest.mark.parametrize("case", BAD_CARDS, ids=list(BAD_CARDS))
def test_import_refuses_a_malformed_card_and_stores_nothing(user, case):
    question = practisable()
    with pytest.raises(ValidationError):
        practice_import(actor=user, cards=[_browser_card(question, **BAD_CARDS[case])], now=NOW)
    assert not PracticeCard.objects.exists()


def test_practice_page_offers_and_keeps_my_watched_tags(client, user, django_assert_num_queries):
    from notifications.services import tag_preferences_set

    watched = practisable(tags=("rag",))
    other = practisable(tags=("llm",))
    Question.objects.filter(pk=other.pk).update(score=10)
    tag_preferences_set(actor=user, watched=["rag"], ignored=[])
    client.force_login(user)
    assert 'name="watched"' in client.get("/en/practice/").content.decode()
    # the watched tags, then as test_practice_page_query_count_does_not_grow_with_cards
    with django_assert_num_queries(11):
        response = client.get("/en/practice/", {"watched": "1"})
    html = response.content.decode()
    assert response.context["pick"].question.pk == watched.pk
    assert "My watched tags" in html and '<input type="hidden" name="watched" value="1">' in html
    graded = client.post(
        "/practice/grade/", {"question": watched.pk, "grade": "good", "watched": "1"}
    )
    assert graded.status_code == 302 and graded["Location"].endswith("?watched=1")


def test_practice_page_says_when_no_tag_is_watched(client, user):
    practisable(tags=("rag",))
    client.force_login(user)
    response = client.get("/en/practice/", {"watched": "1"})
    assert response.context["pick"].question is None
    assert "You watch no tags yet" in response.content.decode()


def test_visitors_are_not_offered_watched_tags(client):
    practisable(tags=("rag",))
    response = client.get("/en/practice/", {"watched": "1"})
    html = response.content.decode()
    assert 'name="watched"' not in html and response.context["pick"].question is not None


def test_sheet_takes_my_watched_tags(client, user):
    from notifications.services import tag_preferences_set

    watched = practisable(tags=("rag",))
    practisable(tags=("llm",))
    tag_preferences_set(actor=user, watched=["rag"], ignored=[])
    client.force_login(user)
    response = client.get("/en/practice/sheet/", {"watched": "1", "count": 5, "seed": 1})
    assert [q.pk for q in response.context["questions"]] == [watched.pk]
    assert "My watched tags" in response.content.decode()


def test_the_page_after_sign_up_asks_the_browser_for_its_schedule(
    client, django_capture_on_commit_callbacks
):
    """A visitor's schedule is brought along at sign-up as at login: the first page of the new
    account (reached from the mailed sign-up link) carries the import address that
    static/practice/header.js posts the cards to."""
    assert "data-import-url" not in client.get("/practice/").content.decode()
    signup = {"username": "新人", "email": "newcomer@example.com",
              "password": "变分自编码器VAE-2024", "password_again": "变分自编码器VAE-2024",
              "next": "/practice/"}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/signup/", signup)
    [message] = mail.outbox
    link = re.search(r"https?://[^/\s]+(/accounts/\S+)", message.body).group(1)
    response = client.get(link, follow=True)
    assert response.redirect_chain[-1][0] == "/practice/"
    assert response.context["user"].username == "新人"
    assert 'data-import-url="/api/v1/practice/import/"' in response.content.decode()
