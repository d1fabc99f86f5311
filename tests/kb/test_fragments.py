"""Members' question pages take each post's viewer-independent blocks (body, tags or source, edit
count, author card) from the fragment cache (kb.views.html.post_blocks_attach): a second member's
page finds them all, every kind of write that changes a block shows on the next member's page,
and the controls (edit links, votes, moderation tools) are still decided per viewer by the
rulebook. Writes go through the services with their on_commit callbacks run as a commit runs
them. Members' whole pages are not taken from their own cache here (tests/kb/test_member_pages.py):
these tests are about what a page rendered anew is made of."""

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.services import profile_update
from kb.models import Answer
from kb.rules import rule
from kb.services.edits import post_edit
from kb.services.votes import vote_cast
from kb.views.page_cache import fragment_key
from tests.factories import UserFactory, answer_make, moderator_create, question_make
from tests.kb.moderation_support import member, reviewer, suggest

pytestmark = pytest.mark.django_db

BLOCKS = "X-Fragment-Cache"


@pytest.fixture(autouse=True)
def members_pages_rendered_anew(settings):
    settings.MEMBER_PAGE_CACHE_ENABLED = False


@pytest.fixture
def world(db):
    author = UserFactory(username="zhangsan", display_name="张三")
    question = question_make(author=author, title="KV cache 为什么能加速解码?", body="问题正文")
    answerer = UserFactory(username="wangwu", display_name="王五")
    answer = answer_make(question=question, author=answerer, body="第一个回答的正文")
    return {"author": author, "answerer": answerer, "question": question, "answer": answer}


def member_page(user, world):
    client = Client()
    client.force_login(user)
    response = client.get(f"/en/questions/{world['question'].pk}/")
    assert response.status_code == 200
    return response


def test_a_second_members_page_finds_every_block(world):
    first = member_page(UserFactory(), world)
    assert first[BLOCKS] == "0/4"  # question and answer: body and byline each
    second = member_page(UserFactory(), world)
    assert second[BLOCKS] == "4/4"
    assert "第一个回答的正文" in second.content.decode() and "王五" in second.content.decode()


def test_controls_stay_per_viewer_on_cached_blocks(world):
    answer = world["answer"]
    delete = f'action="/en/moderation/answer/{answer.pk}/delete/"'
    as_moderator = member_page(moderator_create(), world)  # renders and stores the blocks
    assert as_moderator[BLOCKS] == "0/4"
    assert delete in as_moderator.content.decode()
    other = member_page(UserFactory(), world)
    assert other[BLOCKS] == "4/4"
    assert delete not in other.content.decode()  # a member may not delete others' answers
    own = member_page(world["answerer"], world)
    assert own[BLOCKS] == "4/4"
    assert delete in own.content.decode()  # the author may delete their own answer


def test_a_viewers_own_vote_is_not_taken_from_the_blocks(world, django_capture_on_commit_callbacks):
    voter = UserFactory(reputation=1000)
    with django_capture_on_commit_callbacks(execute=True):
        vote_cast(actor=voter, post=world["answer"], value=1)
    member_page(UserFactory(), world)
    assert member_page(voter, world).context["answers"][0].viewer_vote == 1
    assert member_page(UserFactory(), world).context["answers"][0].viewer_vote is None


def _edit(w):
    post_edit(actor=w["answerer"], post=w["answer"], base_revision=1, body="改过的回答正文")
    return "改过的回答正文"


def _edit_count(w):
    post_edit(actor=w["author"], post=w["question"], base_revision=1, body="改过的问题正文")
    return "edited 1 time"


def _rename(w):
    profile_update(actor=w["answerer"], display_name="王五六", bio="", preferred_language="")
    return "王五六"


def _reputation(w):
    # A vote on the answerer's answer to ANOTHER question: their card here shows the reputation.
    elsewhere = answer_make(question=question_make(), author=w["answerer"])
    vote_cast(actor=moderator_create(), post=elsewhere, value=1)
    return f"Reputation </span>{rule('REPUTATION_ANSWER_UPVOTED')}</span>"


WRITES = {"edit": _edit, "edit count": _edit_count, "rename": _rename, "reputation": _reputation}


@pytest.mark.parametrize("kind", WRITES)
def test_next_members_page_shows_each_kind_of_write(
    kind, world, django_capture_on_commit_callbacks
):
    viewer = UserFactory()
    member_page(viewer, world)
    before = member_page(viewer, world)
    assert before[BLOCKS] == "4/4"
    with django_capture_on_commit_callbacks(execute=True):
        expected = WRITES[kind](world)
    assert expected not in before.content.decode()
    world["answer"] = Answer.objects.get(pk=world["answer"].pk)
    after = member_page(viewer, world)
    assert expected in after.content.decode(), kind
    assert after[BLOCKS] != "4/4", kind


def test_a_change_made_behind_the_services_back_still_shows(world):
    """The key is what the block shows, as read: no version has to move for a block to change."""
    viewer = UserFactory()
    member_page(viewer, world)
    type(world["answerer"]).objects.filter(pk=world["answerer"].pk).update(display_name="赵六")
    Answer.objects.filter(pk=world["answer"].pk).update(body_html="<p>直接改的正文</p>")
    page = member_page(viewer, world)
    assert page[BLOCKS] == "2/4"  # the question's blocks are unchanged
    assert "赵六" in page.content.decode() and "直接改的正文" in page.content.decode()


def test_a_vote_renders_only_the_blocks_that_show_its_change(
    world, django_capture_on_commit_callbacks
):
    viewer = UserFactory()
    member_page(viewer, world)
    with django_capture_on_commit_callbacks(execute=True):
        vote_cast(actor=moderator_create(), post=world["question"], value=1)
    page = member_page(viewer, world)
    # The question's author card shows the reputation the vote gave; the answer's blocks stay.
    assert page[BLOCKS] == "2/4"
    assert page.context["question"].score == 1


def test_blocks_are_rendered_per_language(world):
    client = Client()
    client.force_login(UserFactory())
    english = client.get(f"/en/questions/{world['question'].pk}/")
    chinese = client.get(f"/questions/{world['question'].pk}/")
    assert english[BLOCKS] == chinese[BLOCKS] == "0/4"
    assert "answered" in english.content.decode() and "回答于" in chinese.content.decode()


# --- The review queue: a suggestion's diffs are computed once -----------------------------------

REVIEWED_BODY = "第一段:KV Cache 缓存每层的键和值。\n\n第二段:解码时只算新 token。"


def test_review_queue_diffs_come_from_the_cache_on_the_next_page():
    posts = [answer_make(question=question_make(), body=REVIEWED_BODY) for _ in range(3)]
    for number, post in enumerate(posts):
        suggest(post, by=member(), body=REVIEWED_BODY + f"\n\n第三段:补充 {number}。")
    client = Client()
    client.force_login(reviewer())
    first = client.get("/review/edits/")
    keys = [
        fragment_key("review-diff", s.pk, s.base_revision_id) for s in first.context["suggestions"]
    ]
    assert len(keys) == 3 and len(cache.get_many(keys)) == 3  # stored once rendered
    again = client.get("/review/edits/")
    shown = [s.body_diff_html for s in again.context["suggestions"]]
    assert shown == [s.body_diff_html for s in first.context["suggestions"]]
    assert sorted(number for number in range(3) for diff in shown if f"补充 {number}" in diff) == [
        0,
        1,
        2,
    ]
    assert all("<ins" in diff for diff in shown)


# --- Query counts of members' pages with the caches warm ----------------------------------------


def test_signed_in_question_page_costs_the_same_with_its_blocks_cached(
    world, django_assert_num_queries
):
    client = Client()
    client.force_login(UserFactory())
    path = f"/en/questions/{world['question'].pk}/"
    client.get(path)  # related questions ranked and cached, blocks stored
    # session, user, moderator check, question + author + tags, answers + authors, the viewer's
    # votes, comments, unread count, follow/bookmark state, pending suggested edits (no related
    # question here; tests/kb/test_pages.py counts one more for theirs): the blocks cost no
    # query (one cache read for the page)
    with django_assert_num_queries(10):
        assert client.get(path)[BLOCKS] == "4/4"
    for _ in range(10):
        answer_make(question=world["question"])
    member_page(UserFactory(), world)  # another member's page stores the new answers' blocks
    with django_assert_num_queries(10):
        assert client.get(path)[BLOCKS] == "24/24"


def test_signed_in_user_page_query_count(world, django_assert_num_queries):
    client = Client()
    client.force_login(UserFactory())
    path = f"/en/users/{world['author'].username}/"
    client.get(path)
    # session, user, the member shown, moderator group (role badge), questions count + rows,
    # answers count + rows, the ledger, the viewer's unread count
    with django_assert_num_queries(10):
        assert client.get(path).status_code == 200
    for _ in range(20):
        question_make(author=world["author"])
    with django_assert_num_queries(10):
        assert client.get(path).status_code == 200
