"""Reads for practice mode. Which questions can be practised is decided here, from the viewer."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from kb.models import Answer, Question
from kb.selectors.questions import tag_names
from practice.models import CardState, Grade, PracticeCard, PracticeReview


def practice_question_list(*, viewer, tags: list[str] = (), difficulty: str = "") -> QuerySet:
    """Questions the viewer may see and practise: not deleted, with key points or an answer to
    reveal; narrowed to any of `tags` and to `difficulty` when given."""
    questions = (
        Question.objects.visible_to(viewer)
        .exclude(status=Question.Status.DELETED)
        .filter(Q(answer_count__gt=0) | ~Q(key_points=[]))
    )
    if tags:
        tagged = Question.tags.through.objects.filter(
            question_id=OuterRef("pk"), tag__name__in=list(tags)
        )
        questions = questions.filter(Exists(tagged))
    if difficulty:
        questions = questions.filter(difficulty=difficulty)
    return questions


@dataclass
class Pick:
    question: Question | None
    top_answer: Answer | None
    due: int  # due cards among the chosen questions
    is_new: bool = False


def _with_details(question_id: int | None) -> tuple[Question | None, Answer | None]:
    if question_id is None:
        return None, None
    question = (
        Question.objects.select_related("author")
        .defer("author__password", "author__bio")
        .annotate(tag_names=tag_names())
        .get(pk=question_id)
    )
    answers = Answer.objects.filter(
        question_id=question_id, is_deleted=False, hidden_by_flags=False
    )
    if question.accepted_answer_id:
        top = answers.filter(pk=question.accepted_answer_id).first()
    else:
        top = answers.order_by("-score", "created_at", "pk").first()
    return question, top


def practice_next(
    *,
    viewer,
    now: datetime,
    tags: list[str] = (),
    difficulty: str = "",
    due_ids: list[int] = (),
    seen_ids: list[int] = (),
    question_id: int | None = None,
) -> Pick:
    """The next question to practise and how many are due.

    A member's own cards decide: the card due first, else a question they have not practised
    (highest score first). A visitor's cards live in their browser, which sends the ids of its due
    cards (soonest first) and of every question it has seen. `question_id` asks for one question
    (the browser's choice) if it can be practised."""
    questions = practice_question_list(viewer=viewer, tags=tags, difficulty=difficulty)
    if viewer.is_authenticated:
        cards = PracticeCard.objects.filter(user=viewer, question__in=questions.values("pk"))
        due_cards = cards.filter(due__lte=now)
        due = due_cards.count()
        chosen = None
        if question_id is not None:
            chosen = questions.filter(pk=question_id).values_list("pk", flat=True).first()
        if chosen is None:
            chosen = due_cards.order_by("due", "pk").values_list("question_id", flat=True).first()
        is_new = False
        if chosen is None:
            mine = PracticeCard.objects.filter(user=viewer, question_id=OuterRef("pk"))
            chosen = (
                questions.exclude(Exists(mine))
                .order_by("-score", "pk")
                .values_list("pk", flat=True)
                .first()
            )
            is_new = chosen is not None
    else:
        wanted = [i for i in (question_id, *due_ids) if i is not None]
        valid = (
            set(questions.filter(pk__in=wanted).values_list("pk", flat=True)) if wanted else set()
        )
        due = len(valid & set(due_ids))
        chosen = next((i for i in wanted if i in valid), None)
        is_new = False
        if chosen is None:
            chosen = (
                questions.exclude(pk__in=list(seen_ids))
                .order_by("-score", "pk")
                .values_list("pk", flat=True)
                .first()
            )
            is_new = chosen is not None
    question, top = _with_details(chosen)
    return Pick(question=question, top_answer=top, due=due, is_new=is_new)


def header_due_count(*, user, now: datetime) -> int:
    """The header's "due today": no query for visitors and for members with nothing due (their
    earliest due time is on the user row), one count otherwise."""
    if not user.is_authenticated or user.practice_due_at is None or user.practice_due_at > now:
        return 0
    return (
        PracticeCard.objects.filter(user=user, due__lte=now)
        .exclude(question__status=Question.Status.DELETED)
        .count()
    )


@dataclass
class TagProgress:
    name: str
    seen: int = 0
    due: int = 0
    reviews: int = 0  # reviews of cards in the review state
    passed: int = 0  # of those, graded hard, good or easy

    @property
    def retention(self) -> float | None:
        return self.passed / self.reviews if self.reviews else None


@dataclass
class DayCount:
    day: object
    reviews: int = 0
    again: int = 0


@dataclass
class Progress:
    tags: list[TagProgress] = field(default_factory=list)
    days: list[DayCount] = field(default_factory=list)
    seen: int = 0
    due: int = 0
    reviews: int = 0
    passed: int = 0

    @property
    def retention(self) -> float | None:
        return self.passed / self.reviews if self.reviews else None


HISTORY_DAYS = 30


def practice_progress(*, viewer, now: datetime) -> Progress:
    """Per tag: questions seen, due now, and retention (the share of reviews of cards already
    learned, i.e. in the review state, that were not graded "again"); the reviews of the last 30
    days. Five queries whatever the number of cards."""
    cards = PracticeCard.objects.filter(user=viewer).exclude(
        question__status=Question.Status.DELETED
    )
    progress = Progress()
    totals = cards.aggregate(seen=Count("pk"), due=Count("pk", filter=Q(due__lte=now)))
    progress.seen, progress.due = totals["seen"], totals["due"]
    by_tag: dict[str, TagProgress] = {}
    for row in (
        cards.values("question__tags__name")
        .annotate(seen=Count("pk"), due=Count("pk", filter=Q(due__lte=now)))
        .order_by("question__tags__name")
    ):
        name = row["question__tags__name"]
        if name:
            by_tag[name] = TagProgress(name=name, seen=row["seen"], due=row["due"])
    learned = PracticeReview.objects.filter(
        card__user=viewer, state_before=CardState.REVIEW
    ).exclude(card__question__status=Question.Status.DELETED)
    passed = Count("pk", filter=Q(grade__gt=Grade.AGAIN))
    for row in learned.values("card__question__tags__name").annotate(n=Count("pk"), passed=passed):
        tag = by_tag.get(row["card__question__tags__name"])
        if tag:
            tag.reviews, tag.passed = row["n"], row["passed"]
    progress.tags = sorted(by_tag.values(), key=lambda t: (-t.seen, t.name))
    # Days are calendar days in TIME_ZONE, as TruncDate counts them (not UTC dates).
    start = timezone.localdate(now) - timedelta(days=HISTORY_DAYS - 1)
    counts = {
        row["day"]: row
        for row in PracticeReview.objects.filter(card__user=viewer, reviewed_at__date__gte=start)
        .annotate(day=TruncDate("reviewed_at"))
        .values("day")
        .annotate(n=Count("pk"), again=Count("pk", filter=Q(grade=Grade.AGAIN)))
    }
    progress.days = [
        DayCount(
            day=start + timedelta(days=offset),
            reviews=counts.get(start + timedelta(days=offset), {}).get("n", 0),
            again=counts.get(start + timedelta(days=offset), {}).get("again", 0),
        )
        for offset in range(HISTORY_DAYS)
    ]
    learned_totals = learned.aggregate(n=Count("pk"), passed=passed)
    progress.reviews, progress.passed = learned_totals["n"], learned_totals["passed"]
    return progress


TAG_CHOICES = 24


WATCHED_TAGS_MAX = 200  # a member's watched tags practised at once


def watched_tag_names(*, viewer) -> list[str]:
    """The tags the viewer watches (notifications' TagPreference), for "my watched tags": one
    query, none for visitors (who watch nothing)."""
    if not viewer.is_authenticated:
        return []
    from notifications.models import TagPreference

    return list(
        TagPreference.objects.filter(user=viewer, kind=TagPreference.Kind.WATCHED)
        .order_by("tag__name")
        .values_list("tag__name", flat=True)[:WATCHED_TAGS_MAX]
    )


def practice_tag_choices(*, selected: list[str]) -> list[dict]:
    """The tags offered as checkboxes: the most used ones, and any selected (one query)."""
    from kb.models import Tag

    rows = list(
        Tag.objects.filter(Q(question_count__gt=0) | Q(name__in=selected))
        .order_by("-question_count", "name")
        .values_list("name", flat=True)[: TAG_CHOICES + len(selected)]
    )
    return [{"name": name, "selected": name in selected} for name in rows]
