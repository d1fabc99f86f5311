import pytest
from django.core.management import call_command

from kb.models import Answer, Question, Revision, Tag
from kb.starter import starter_questions

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
