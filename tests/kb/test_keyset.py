"""Keyset ("older than") links on the question list, tag and user pages (kb/selectors/keyset.py,
kb.views.html._page): following them from page 1 shows every row once, in the list's order, even
when rows tie on every sort field but the id; the numbered pages stay."""

import html as html_lib
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from kb.models import Answer, Question
from kb.views import html
from tests.factories import UserFactory, answer_make, question_make

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache_off")]

OLDER = re.compile(r'class="pagination__step pagination__older" href="([^"]+)"')
AFTER_PARAMS = {"page": "after", "question_page": "questions_after", "answer_page": "answers_after"}
SAME_MOMENT = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def small_pages(monkeypatch):
    monkeypatch.setattr(html, "QUESTIONS_PER_PAGE", 3)
    monkeypatch.setattr(html, "USER_POSTS_PER_PAGE", 3)


def older_link(response, page_name: str = "page") -> str | None:
    """The page's "Older" link for the list `page_name`: the one moving its cursor (a user page
    has two lists, and each link keeps the other list's parameters)."""
    param = AFTER_PARAMS[page_name]
    current = response.wsgi_request.GET.get(param)
    for found in OLDER.finditer(response.content.decode()):
        link = html_lib.unescape(found.group(1))
        cursor = parse_qs(urlsplit(link).query).get(param, [None])[0]
        if cursor is not None and cursor != current:
            return link
    return None


def walk(client, path: str, page_name: str = "page") -> list[int]:
    """The ids shown from page 1 on, following "Older" links to the end."""
    shown, url = [], path
    for _ in range(50):
        response = client.get(url)
        assert response.status_code == 200, url
        shown += [row.pk for row in response.context[page_name].object_list]
        link = older_link(response, page_name)
        if link is None:
            return shown
        url = path.split("?")[0] + link
    raise AssertionError("the older links never end")


def numbered(client, path: str, page_name: str = "page", param: str = "page") -> list[int]:
    shown = []
    joiner = "&" if "?" in path else "?"
    for number in range(1, 50):
        response = client.get(f"{path}{joiner}{param}={number}")
        page = response.context[page_name]
        shown += [row.pk for row in page.object_list]
        if not page.has_next():
            return shown
    raise AssertionError("too many pages")


@pytest.fixture
def tied():
    """Eight questions asked, active and scored at the same moment, in pairs of equal score."""
    author = UserFactory(username="lisi")
    questions = [question_make(author=author, tags=("llm",)) for _ in range(8)]
    Question.objects.update(created_at=SAME_MOMENT, last_activity_at=SAME_MOMENT)
    for i, question in enumerate(questions):
        Question.objects.filter(pk=question.pk).update(score=i // 2)
    return author, [question.pk for question in questions]


@pytest.mark.parametrize("tab", ["newest", "active", "top", "unanswered"])
def test_older_links_show_every_question_once_in_order_when_rows_tie(client, tied, tab):
    _author, ids = tied
    if tab == "top":  # score, then (all equal) time, then id
        expected = sorted(ids, key=lambda pk: (-(ids.index(pk) // 2), -pk))
    else:
        expected = sorted(ids, reverse=True)
    path = f"/en/?tab={tab}"
    assert walk(client, path) == expected
    assert numbered(client, path) == expected


def test_tag_page_older_links(client, tied):
    _author, ids = tied
    question_make(tags=("cnn",))  # another tag's question is never listed
    assert walk(client, "/en/tags/llm/") == sorted(ids, reverse=True)


def test_user_page_older_links_page_questions_and_answers_apart(client, tied):
    author, ids = tied
    for question_id in ids[:7]:
        answer_make(question=Question.objects.get(pk=question_id), author=author)
    Answer.objects.update(created_at=SAME_MOMENT)
    answer_ids = sorted(Answer.objects.filter(author=author).values_list("pk", flat=True))
    path = f"/en/users/{author.username}/"
    assert walk(client, path, "question_page") == sorted(ids, reverse=True)
    assert walk(client, path, "answer_page") == sorted(answer_ids, reverse=True)
    assert numbered(client, path, "answer_page", "answers_page") == sorted(answer_ids, reverse=True)


def test_the_older_link_of_a_numbered_page_continues_with_the_next_page(client, tied):
    older = client.get("/en/" + older_link(client.get("/en/?page=1")))
    second = client.get("/en/?page=2")
    assert [q.pk for q in older.context["page"].object_list] == [
        q.pk for q in second.context["page"].object_list
    ]
    text = older.content.decode()
    assert older.context["page"].keyset and 'rel="next"' in text  # "Older" is the way on
    assert 'href="?page=3"' in text and "Newest" in text  # the numbers stay


def test_the_last_page_has_no_older_link(client, tied):
    assert older_link(client.get("/en/?page=3")) is None


@pytest.mark.parametrize(
    "cursor", ["abc", "1_2_3", "1_x", "1_2_3_4_5", "99999999999999999999999999_1", ""]
)
def test_a_cursor_that_does_not_fit_gives_the_first_page(client, tied, cursor):
    response = client.get(f"/en/?after={cursor}")
    assert response.status_code == 200
    assert [q.pk for q in response.context["page"].object_list] == sorted(tied[1])[::-1][:3]


def test_keyset_page_reads_no_more_than_the_first_page(client, tied, django_assert_num_queries):
    link = older_link(client.get("/en/"))
    with django_assert_num_queries(2):  # count, the page's rows with authors and tag names
        client.get("/en/")
    with django_assert_num_queries(2):  # count, the rows after the cursor with the same
        client.get("/en/" + link)
