import pytest
from django.db import IntegrityError, connection, transaction

from kb.models import Revision, Tag, TagAlias
from kb.services.revisions import newest_approved
from tests.factories import answer_make, question_make

pytestmark = pytest.mark.django_db


def test_database_ctype_is_utf8_so_trigram_sees_chinese():
    with connection.cursor() as cursor:
        cursor.execute("SELECT datctype FROM pg_database WHERE datname = current_database()")
        assert "utf" in cursor.fetchone()[0].lower().replace("-", "")
        cursor.execute("SELECT show_trgm('注意力')")
        assert cursor.fetchone()[0], "pg_trgm produced no trigrams for Chinese text"


def test_tag_name_is_unique_case_insensitively():
    Tag.objects.create(name="layernorm")
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(name="LayerNorm")


def test_tag_alias_is_unique_case_insensitively():
    tag = Tag.objects.create(name="normalization")
    TagAlias.objects.create(tag=tag, name="LayerNorm")
    with pytest.raises(IntegrityError), transaction.atomic():
        TagAlias.objects.create(tag=tag, name="layernorm")


def test_revision_content_cannot_be_changed():
    question = question_make()
    revision = question.revisions.get()
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        Revision.objects.filter(pk=revision.pk).update(body="rewritten history")
    revision.refresh_from_db()
    assert revision.body == question.body


def test_revision_cannot_be_deleted():
    question = question_make()
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        Revision.objects.filter(question=question).delete()
    assert question.revisions.count() == 1


def test_revision_review_fields_may_change():
    question = question_make()
    Revision.objects.filter(question=question).update(review_note="checked")
    assert question.revisions.get().review_note == "checked"


def test_revision_belongs_to_exactly_one_post():
    question = question_make()
    answer = answer_make(question=question)
    with pytest.raises(IntegrityError), transaction.atomic():
        Revision.objects.create(question=question, answer=answer, number=9, body="x",
                                author=question.author)  # fmt: skip


def test_current_content_is_the_newest_approved_revision():
    question = question_make(title="RMSNorm 和 LayerNorm 的区别", tags=["normalization", "llm"])
    newest = newest_approved(post=question)
    assert (question.title, question.body) == (newest.title, newest.body)
    assert sorted(question.tags.values_list("name", flat=True)) == sorted(newest.tags)
