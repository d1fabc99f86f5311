import pytest

from accounts.models import ReputationEvent, User
from bench import corpus, generate, invariants
from kb import markdown
from kb.models import Answer, Comment, Question, QuestionSearch, Revision, Tag, Vote
from kb.services.validation import validate_body, validate_title

TINY = generate.Plan(questions=12, users=20, tags=30, seed=7)


def test_same_seed_gives_same_rows():
    assert generate.build_chunk(TINY, 1, 4) == generate.build_chunk(TINY, 1, 4)


def test_another_seed_gives_other_rows():
    other = generate.Plan(questions=12, users=20, tags=30, seed=8)
    assert generate.build_chunk(TINY, 1, 4).questions != generate.build_chunk(other, 1, 4).questions


def test_chunk_boundaries_do_not_change_posts():
    whole = generate.build_chunk(TINY, 1, 6)
    first, second = generate.build_chunk(TINY, 1, 3), generate.build_chunk(TINY, 4, 6)
    assert whole.questions == first.questions + second.questions
    assert whole.answers == first.answers + second.answers
    assert whole.votes == first.votes + second.votes


def test_generated_text_passes_the_services_validation():
    chunk = generate.build_chunk(TINY, 1, TINY.questions)
    for question in chunk.questions:
        assert validate_title(question["title"]) == question["title"]
    for revision in chunk.revisions:
        assert validate_body(revision["body"]) == revision["body"]
        if revision["number"] == 1:
            length = len(revision["body"])
            assert corpus.BODY_MIN_LENGTH <= length <= corpus.BODY_MAX_LENGTH


@pytest.mark.parametrize(
    ("latex", "display"),
    [(f, False) for f in corpus.INLINE_FORMULAS] + [(f, True) for f in corpus.DISPLAY_FORMULAS],
)
def test_every_formula_renders_without_error(latex, display):
    assert "math-error" not in markdown.math_to_mathml(latex, display=display)


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(generate, "CHUNK_QUESTIONS", 5)  # three chunks: ids must be shifted


def test_generated_database_keeps_the_invariants(db, small_chunks):
    counts = generate.generate(TINY)
    assert counts["questions"] == Question.objects.count() == TINY.questions
    assert counts["answers"] == Answer.objects.count() == TINY.questions * 3
    assert counts["revisions"] == Revision.objects.count() > TINY.questions * 4
    assert counts["votes"] == Vote.objects.count()
    assert counts["comments"] == Comment.objects.count() > 0
    assert counts["reputation events"] == ReputationEvent.objects.count() > 0
    assert Tag.objects.count() == TINY.tags
    assert QuestionSearch.objects.count() == TINY.questions
    assert User.objects.filter(reputation__gt=1).exists()
    assert invariants.problems(render_sample=None) == []


def test_ledger_caps_upvote_reputation_per_author_and_day():
    chunk = generate.Chunk(
        questions=[{"id": 1, "author_id": 7, "status": "open"}],
        votes=[
            {"id": n, "question_id": 1, "answer_id": None, "user_id": 100 + n, "value": 1,
             "created_at": generate.END - generate.timedelta(hours=1, minutes=n)}
            for n in range(1, 26)
        ],
    )  # fmt: skip
    ledger = generate._Ledger()
    ledger.add(chunk)
    rows = ledger.rows()
    assert len(rows) == 25
    assert sum(row["amount"] for row in rows) == 200  # REPUTATION_DAILY_CAP


def test_generated_rows_can_be_added_to_through_the_orm(db):
    generate.generate(TINY)
    # The sequences were moved past the copied ids.
    tag = Tag.objects.create(name="brand-new-tag")
    assert tag.pk == TINY.tags + 1


def test_generated_question_is_served_by_the_api(db, api_client):
    generate.generate(TINY)
    question = Question.objects.exclude(status=Question.Status.DELETED).order_by("pk").first()
    response = api_client.get(f"/api/v1/questions/{question.pk}/")
    assert response.status_code == 200
    assert response.json()["title"] == question.title


def test_invariant_check_notices_a_drifted_counter_and_stale_html(db):
    generate.generate(TINY)
    Question.objects.filter(pk=1).update(score=999)
    Answer.objects.filter(pk=1).update(body_html="<p>stale</p>")
    found = invariants.problems(render_sample=None)
    assert any(line.startswith("question score is the sum of its votes") for line in found)
    assert "Answer 1: body_html is not the rendered body" in found
