import pytest
from django.core.management import call_command

from kb.markdown import render
from kb.models import Answer, Question, Revision, Tag
from kb.services.validation import validate_title
from kb.starter import starter_questions, starter_tags

pytestmark = pytest.mark.django_db


def test_load_starter_is_idempotent():
    call_command("load_starter")
    counts = (Question.objects.count(), Answer.objects.count(), Revision.objects.count())
    assert counts[0] == len(starter_questions()) >= 3
    call_command("load_starter")
    assert (Question.objects.count(), Answer.objects.count(), Revision.objects.count()) == counts


def test_starter_posts_have_revision_one_by_the_system_account():
    call_command("load_starter")
    for question in Question.objects.all():
        revision = question.revisions.get()
        assert revision.number == 1 and revision.author.is_system
        assert question.answers.count() >= 1


def test_starter_tags_have_descriptions_and_aliases():
    call_command("load_starter")
    assert Tag.objects.filter(name="normalization", aliases__name="层归一化").exists()
    assert not Tag.objects.filter(description="").exists()


# The starter set is checked file by file: the content is the product.
STARTER = starter_questions()
KNOWN_TAGS = {tag.name for tag in starter_tags()}


@pytest.mark.parametrize("item", STARTER, ids=[q.path.name for q in STARTER])
def test_starter_question_is_well_formed(item):
    assert validate_title(item.title) == item.title
    assert 1 <= len(item.tags) <= 5 and set(item.tags) <= KNOWN_TAGS
    assert item.body.strip()
    for answer in item.answers:
        assert 400 <= len(answer) <= 2000, f"{len(answer)} characters"
        assert "### 参考" in answer, "every answer cites its sources"
        assert "math-error" not in render(answer)


def test_starter_set_covers_the_sixteen_topics():
    assert len(STARTER) == 16
    numbers = sorted(int(q.path.name[:2]) for q in STARTER)
    assert numbers == list(range(1, 17))
