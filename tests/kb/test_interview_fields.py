"""A question's interview fields are revision content: created, edited, merged, diffed, rolled
back, suggested and reviewed like title and body; shown on the page, in the API and in search."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import ProgrammingError, transaction

from kb.models import Question, Revision
from kb.selectors.search import search
from kb.services.edits import EditConflict, post_edit, revision_rollback
from kb.services.questions import question_create
from kb.services.reviews import edit_review
from tests.factories import UserFactory, moderator_create, question_make

pytestmark = pytest.mark.django_db

FIELDS = {
    "difficulty": "intermediate",
    "short_answer": "GQA 让一组查询头共享一对 K/V 头。",
    "key_points": ["KV cache 缩小 $h/g$ 倍", "MQA 是 g=1 的特例"],
    "common_mistakes": ["以为 GQA 减少了查询头"],
    "follow_ups": [{"text": "MLA 又省在哪里?", "question_id": None}],
}


def asked(author, **overrides):
    return question_create(
        actor=author,
        title="MQA、GQA 和 MHA 有什么区别?",
        body="请比较三种注意力的 KV cache。",
        tags=["llm"],
        interview={**FIELDS, **overrides},
    )


def test_question_create_stores_the_fields_on_the_question_and_revision_1(user):
    question = asked(user)
    question.refresh_from_db()
    revision = question.revisions.get(number=1)
    for row in (question, revision):
        assert row.difficulty == "intermediate"
        assert row.key_points == FIELDS["key_points"]
        assert row.follow_ups == FIELDS["follow_ups"]


BAD_INPUT = {
    "unknown difficulty": ({"difficulty": "hard"}, "difficulty"),
    "key points not a list": ({"key_points": "一条"}, "key_points"),
    "key point too long": ({"key_points": ["长" * 401]}, "key_points"),
    "short answer too long": ({"short_answer": "长" * 601}, "short_answer"),
    "follow-up without text": ({"follow_ups": [{"text": " ", "question_id": None}]}, "follow_ups"),
    "follow-up to no question": (
        {"follow_ups": [{"text": "追问", "question_id": 987654}]},
        "follow_ups",
    ),
    "follow-up id not a number": (
        {"follow_ups": [{"text": "追问", "question_id": "5"}]},
        "follow_ups",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUT, ids=list(BAD_INPUT))
def test_bad_interview_input_is_refused_naming_the_field(user, case):
    overrides, field = BAD_INPUT[case]
    with pytest.raises(ValidationError) as error:
        asked(user, **overrides)
    assert field in error.value.message_dict
    assert not Question.objects.exists()


def test_a_follow_up_may_link_an_existing_question(user):
    target = question_make()
    question = asked(user, follow_ups=[{"text": "追问", "question_id": target.pk}])
    assert question.follow_ups == [{"text": "追问", "question_id": target.pk}]


def test_editing_only_a_key_point_is_a_new_revision_and_rollback_restores_it(user):
    question = asked(user)
    points = [*FIELDS["key_points"], "GQA 可由 MHA 检查点 mean-pool 得到"]
    result = post_edit(actor=user, post=question, base_revision=1, body=question.body,
                       interview={"key_points": points})  # fmt: skip
    question.refresh_from_db()
    assert result.revision.number == 2 and question.key_points == points
    assert question.short_answer == FIELDS["short_answer"]  # untouched fields are kept
    revision_rollback(actor=user, post=question, to=1)
    question.refresh_from_db()
    assert question.revision_count == 3 and question.key_points == FIELDS["key_points"]


def test_an_edit_that_changes_nothing_is_refused(user):
    question = asked(user)
    with pytest.raises(ValidationError, match="Nothing changed|没有"):
        post_edit(actor=user, post=question, base_revision=1, body=question.body,
                  interview={"difficulty": "intermediate"})  # fmt: skip


def test_concurrent_edits_of_different_fields_merge_and_of_the_same_field_conflict(user):
    question = asked(user)
    post_edit(actor=user, post=question, base_revision=1, body=question.body,
              interview={"difficulty": "advanced"})  # fmt: skip
    merged = post_edit(actor=user, post=question, base_revision=1, body=question.body,
                       interview={"short_answer": "新的一句话。"})  # fmt: skip
    question.refresh_from_db()
    assert merged.merged
    assert (question.difficulty, question.short_answer) == ("advanced", "新的一句话。")
    with pytest.raises(EditConflict) as conflict:
        post_edit(actor=user, post=question, base_revision=1, body=question.body,
                  interview={"difficulty": "basic"})  # fmt: skip
    assert conflict.value.conflicts == ["difficulty"]


def test_a_suggested_edit_of_the_fields_waits_and_applies_on_approval(user, moderator):
    question = asked(user)
    suggester = UserFactory()
    mistakes = ["以为 GQA 减少了查询头", "忘了 RoPE"]
    result = post_edit(actor=suggester, post=question, base_revision=1, body=question.body,
                       interview={"common_mistakes": mistakes})  # fmt: skip
    question.refresh_from_db()
    assert result.pending and question.common_mistakes == ["以为 GQA 减少了查询头"]
    edit_review(actor=moderator, revision=result.revision, decision="approve")
    question.refresh_from_db()
    assert question.common_mistakes == ["以为 GQA 减少了查询头", "忘了 RoPE"]


def test_the_database_refuses_to_change_a_revisions_key_points(user):
    asked(user)
    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
        Revision.objects.filter(number=1).update(key_points=["改写历史"])


def test_diff_page_names_the_field_that_changed(client, user, django_assert_max_num_queries):
    question = asked(user)
    post_edit(actor=user, post=question, base_revision=1, body=question.body,
              interview={"common_mistakes": ["以为 GQA 减少了查询头的数量"]})  # fmt: skip
    with django_assert_max_num_queries(6):
        response = client.get(f"/en/questions/{question.pk}/diff/?from=1&to=2")
    html = response.content.decode()
    assert '<h3 class="diff-field" data-field="common_mistakes">Common mistakes</h3>' in html
    assert 'data-field="key_points"' not in html
    assert '<ins class="diff-insert">的数量</ins>' in html


def test_history_page_names_the_fields_each_revision_changed_and_shows_them(
    client, user, django_assert_num_queries
):
    question = asked(user)
    points = [*FIELDS["key_points"], "新要点"]
    post_edit(actor=user, post=question, base_revision=1, body=question.body,
              interview={"difficulty": "advanced", "key_points": points})  # fmt: skip
    post_edit(actor=user, post=question, base_revision=2, body="请比较三种注意力。",
              title=None, tags=["llm", "attention"], summary="")  # fmt: skip
    # question + author + tag names, revisions + authors, the public moderation timeline
    with django_assert_num_queries(3):
        response = client.get(f"/en/questions/{question.pk}/revisions/")
    html = response.content.decode()
    changed = [
        line.split("Changed:", 1)[1].split("</p>")[0].strip()
        for line in html.splitlines()
        if 'class="revision__changed"' in line
    ]
    assert changed == ["Tags, Body", "Difficulty, Key points"]  # newest first; none for 1
    third, second, first = html.split('class="revision revision--')[1:]
    assert "新要点" in second and "新要点" not in first
    assert "Interview notes" in first and "Short answer" in first
    assert '<h3 class="interview__heading"' in first and '<h4 class="interview__label">' in first


def test_edit_form_shows_and_saves_the_fields_as_lines(client, user):
    question = asked(user)
    client.force_login(user)
    page = client.get(f"/questions/{question.pk}/edit/").content.decode()
    assert "KV cache 缩小 $h/g$ 倍\nMQA 是 g=1 的特例</textarea>" in page
    target = question_make()
    response = client.post(
        f"/questions/{question.pk}/edit/",
        {
            "title": question.title,
            "body": question.body,
            "tags": "llm",
            "base_revision": 1,
            "difficulty": "advanced",
            "short_answer": FIELDS["short_answer"],
            "key_points": "第一点\r\n\r\n  第二点  \r\n",
            "common_mistakes": "",
            "follow_ups": f"MLA 又省在哪里?\r\nFlashAttention 呢? #{target.pk}",
        },
    )
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.key_points == ["第一点", "第二点"] and question.common_mistakes == []
    assert question.follow_ups == [
        {"text": "MLA 又省在哪里?", "question_id": None},
        {"text": "FlashAttention 呢?", "question_id": target.pk},
    ]


def test_edit_form_shows_a_bad_difficulty_as_a_field_error(client, user):
    question = asked(user)
    client.force_login(user)
    response = client.post(
        f"/en/questions/{question.pk}/edit/",
        {"title": question.title, "body": question.body, "tags": "llm", "base_revision": 1,
         "follow_ups": "追问 #987654"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "No question #987654" in response.content.decode()


def test_question_page_shows_the_fields_in_their_own_block(client, user):
    target = question_make()
    question = asked(user, follow_ups=[{"text": "FlashAttention 呢?", "question_id": target.pk}])
    html = client.get(f"/en/questions/{question.pk}/").content.decode()
    block = html[html.index('<section class="interview"') :]
    assert "intermediate" in block and "Key points" in block
    assert "<math" in block  # the key point's formula is rendered
    assert f'<a href="/en/questions/{target.pk}/">FlashAttention 呢?</a>' in block


def test_api_detail_has_the_fields_and_patch_validates_them(api_client, user):
    question = asked(user)
    data = api_client.get(f"/api/v1/questions/{question.pk}/").json()
    assert data["difficulty"] == "intermediate"
    assert data["key_points"] == FIELDS["key_points"]
    assert data["follow_ups"] == [{"text": "MLA 又省在哪里?", "question_id": None}]
    api_client.force_authenticate(user)
    url = f"/api/v1/questions/{question.pk}/"
    response = api_client.patch(url, {"base_revision": 1, "difficulty": "expert"}, format="json")
    assert response.status_code == 400
    assert "difficulty" in response.json()["error"]["fields"]
    response = api_client.patch(url, {"base_revision": 1, "difficulty": "basic"}, format="json")
    assert response.status_code == 200
    question.refresh_from_db()
    assert question.difficulty == "basic"


def test_a_key_point_word_finds_the_question(user):
    question = asked(user, key_points=["分组查询注意力可以由多头检查点均值池化得到"])
    other = question_make(body="完全无关的内容。")
    results = search(viewer=AnonymousUser(), query="均值池化")
    found = [hit.question.pk for hit in results.page.object_list]
    assert question.pk in found and other.pk not in found


def test_moderator_sees_which_field_a_suggestion_changes(client, user):
    question = asked(user)
    post_edit(actor=UserFactory(), post=question, base_revision=1, body=question.body,
              interview={"short_answer": "改过的一句话回答。"})  # fmt: skip
    client.force_login(moderator_create())
    html = client.get("/en/review/edits/").content.decode()
    assert 'data-field="short_answer"' in html
