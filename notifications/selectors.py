"""Reads of the notifications app; each takes the viewer."""

from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.urls import reverse
from django.utils import timezone

from accounts.models import ReputationEvent
from kb.addresses import question_url
from kb.models import Question
from kb.selectors.questions import QUESTION_TABS, question_list
from notifications.models import (
    Bookmark,
    Notification,
    NotificationSettings,
    QuestionFollow,
    TagPreference,
)

User = get_user_model()
Kind = Notification.Kind
UNREAD_SHOWN_MAX = 99  # the header says "99+" past this: the count never scans a long tail


def unread_count(*, viewer) -> int:
    """Unread notifications, counted up to UNREAD_SHOWN_MAX + 1 (one query on the partial index
    notification_unread)."""
    if not viewer.is_authenticated:
        return 0
    unread = Notification.objects.filter(recipient=viewer, read_at__isnull=True)
    return unread.values("pk")[: UNREAD_SHOWN_MAX + 1].count()


def inbox_list(*, viewer, unread: bool = False) -> QuerySet[Notification]:
    """The viewer's own notifications, newest first, with what each line shows. Items about a
    question the viewer can no longer see stay out."""
    items = Notification.objects.filter(recipient=viewer)
    if unread:
        items = items.filter(read_at__isnull=True)
    hidden = Question.objects.hidden_from(viewer, prefix="question__")
    if hidden is not None:
        items = items.exclude(hidden & Q(question__isnull=False))
    return (
        items.select_related("actor", "question", "revision")
        .only(*NOTIFICATION_FIELDS)
        .order_by("-created_at", "-pk")
    )


NOTIFICATION_FIELDS = (
    "pk", "kind", "text", "read_at", "created_at", "recipient_id", "answer_id", "comment_id",
    "actor__username", "actor__display_name", "question__title", "question__status",
    "question__author_id", "question__hidden_by_flags", "revision__number",
    "revision__question_id", "revision__answer_id",
)  # fmt: skip


def notification_url(notification: Notification) -> str:
    """The exact place a notification is about: the comment, the answer, the diff of an edit,
    the suggested edit in the history, or the question."""
    n = notification
    if n.question_id is None:
        return reverse("notifications:inbox") + f"#notification-{n.pk}"
    thread = question_url(n.question)
    if n.kind == Kind.EDITED and n.revision_id:
        post = "answer" if n.revision.answer_id else "question"
        pk = n.revision.answer_id or n.revision.question_id
        number = n.revision.number
        return reverse(f"kb:{post}_diff", kwargs={"pk": pk}) + f"?from={number - 1}&to={number}"
    if n.kind in (Kind.SUGGESTION_APPROVED, Kind.SUGGESTION_IMPROVED, Kind.SUGGESTION_REJECTED):
        post = "answer" if n.revision.answer_id else "question"
        pk = n.revision.answer_id or n.revision.question_id
        return reverse(f"kb:{post}_history", kwargs={"pk": pk}) + f"#revision-{n.revision.number}"
    if n.comment_id:
        return f"{thread}#comment-{n.comment_id}"
    if n.answer_id:
        return f"{thread}#answer-{n.answer_id}"
    return thread


# --- Follows and tags -----------------------------------------------------------------------


@dataclass
class QuestionState:
    following: bool = False
    bookmarked: bool = False


def question_state(*, viewer, question: Question) -> QuestionState:
    """Does the viewer follow / bookmark `question`? One query of two indexed EXISTS, whatever
    the number of followers; none for anonymous viewers."""
    if not viewer.is_authenticated:
        return QuestionState()
    state = (
        User.objects.filter(pk=viewer.pk)
        .annotate(
            following=Exists(
                QuestionFollow.objects.filter(user=OuterRef("pk"), question=question, active=True)
            ),
            bookmarked=Exists(Bookmark.objects.filter(user=OuterRef("pk"), question=question)),
        )
        .values("following", "bookmarked")
        .first()
    )
    return QuestionState(**state) if state else QuestionState()


def bookmark_list(*, viewer, owner) -> QuerySet[Question]:
    """Questions `owner` bookmarked that the viewer may see, newest bookmark first."""
    marks = Bookmark.objects.filter(user=owner, question=OuterRef("pk"))
    return (
        question_list(viewer=viewer)
        .filter(Exists(marks))
        .annotate(bookmarked_at=marks.values("created_at")[:1])
        .order_by("-bookmarked_at", "-pk")
    )


@dataclass
class TagPreferences:
    watched: set[str] = field(default_factory=set)
    ignored: set[str] = field(default_factory=set)
    hide_ignored: bool = False
    email_mode: str = NotificationSettings.EmailMode.NONE

    def state_of(self, tag_names) -> str:
        names = set(tag_names or ())
        if names & self.watched:
            return "watched"
        if names & self.ignored:
            return "ignored"
        return ""


def tag_preferences_get(*, viewer) -> TagPreferences:
    """The viewer's watched and ignored tag names and list setting: one query (none for
    anonymous viewers)."""
    if not viewer.is_authenticated:
        return TagPreferences()
    row = (
        User.objects.filter(pk=viewer.pk)
        .annotate(
            watched=ArrayAgg(
                "tag_preferences__tag__name",
                filter=Q(tag_preferences__kind=TagPreference.Kind.WATCHED),
                default=[],
                distinct=True,
            ),
            ignored=ArrayAgg(
                "tag_preferences__tag__name",
                filter=Q(tag_preferences__kind=TagPreference.Kind.IGNORED),
                default=[],
                distinct=True,
            ),
        )
        .values(
            "watched",
            "ignored",
            "notification_settings__hide_ignored",
            "notification_settings__email_mode",
        )  # fmt: skip
        .first()
    )
    return TagPreferences(
        watched=set(row["watched"]),
        ignored=set(row["ignored"]),
        hide_ignored=bool(row["notification_settings__hide_ignored"]),
        email_mode=row["notification_settings__email_mode"] or NotificationSettings.EmailMode.NONE,
    )


def watched_question_list(*, viewer) -> QuerySet[Question]:
    """Fan-out on read: the visible questions in the viewer's watched tags, newest first."""
    tagged = Question.tags.through.objects.filter(
        question_id=OuterRef("pk"),
        tag_id__in=TagPreference.objects.filter(
            user=viewer, kind=TagPreference.Kind.WATCHED
        ).values("tag_id"),
    )
    return question_list(viewer=viewer, tab="newest").filter(Exists(tagged))


def without_ignored(questions: QuerySet[Question], *, viewer) -> QuerySet[Question]:
    """`questions` without those carrying one of the viewer's ignored tags."""
    tagged = Question.tags.through.objects.filter(
        question_id=OuterRef("pk"),
        tag_id__in=TagPreference.objects.filter(
            user=viewer, kind=TagPreference.Kind.IGNORED
        ).values("tag_id"),
    )
    return questions.exclude(Exists(tagged))


# --- Achievements -----------------------------------------------------------------------------


@dataclass
class AchievementGroup:
    day: date
    thread_id: int | None
    amount: int
    events: int
    kinds: list[str]
    thread: Question | None = None


def achievement_list(*, viewer) -> QuerySet:
    """The viewer's reputation changes from the ledger, summed per day (in TIME_ZONE) and post,
    newest first: rows of day, thread_id, amount, events, kinds."""
    return (
        ReputationEvent.objects.filter(user=viewer)
        .annotate(
            day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()),
            thread_id=Coalesce(F("question_id"), F("answer__question_id")),
        )
        .values("day", "thread_id")
        .annotate(
            amount=Sum("amount"),
            events=Count("pk"),
            kinds=ArrayAgg("kind", distinct=True),
        )
        .order_by("-day", "-amount", "thread_id")
    )


def achievement_groups(*, viewer, rows) -> list[AchievementGroup]:
    """A page of achievement_list rows as groups, each with the question when the viewer may
    see it (one query for the page)."""
    groups = [AchievementGroup(**row) for row in rows]
    ids = {g.thread_id for g in groups if g.thread_id}
    threads = {}
    if ids:
        threads = {
            q.pk: q
            for q in Question.objects.visible_to(viewer).filter(pk__in=ids).only("pk", "title")
        }
    for group in groups:
        group.thread = threads.get(group.thread_id)
    return groups


WATCHED_TAB = "watched"


def home_question_list(*, viewer, tab: str | None):
    """The home page's questions for `tab` (members also get "watched": their tags, fan-out on
    read), without ignored tags when the member hides them, each row marked watched or ignored
    for the template. Returns (questions, tab, tabs). Members pay one query for their tags."""
    tabs = list(QUESTION_TABS)
    if not viewer.is_authenticated:
        tab = tab if tab in QUESTION_TABS else "newest"
        return question_list(viewer=viewer, tab=tab), tab, tabs
    tabs.append(WATCHED_TAB)
    preferences = tag_preferences_get(viewer=viewer)
    if tab == WATCHED_TAB:
        questions = watched_question_list(viewer=viewer)
    else:
        tab = tab if tab in QUESTION_TABS else "newest"
        questions = question_list(viewer=viewer, tab=tab)
    if preferences.hide_ignored and preferences.ignored:
        questions = without_ignored(questions, viewer=viewer)
    return rows_marked(questions, preferences), tab, tabs


def rows_marked(questions: QuerySet[Question], preferences: TagPreferences) -> QuerySet[Question]:
    """Annotate `watch_state` ("watched", "ignored" or "") from the rows' tag names, in SQL for
    the shown rows only."""
    if not preferences.watched and not preferences.ignored:
        return questions
    whens = []
    if preferences.watched:
        whens.append(When(tag_names__overlap=sorted(preferences.watched), then=Value("watched")))
    if preferences.ignored:
        whens.append(When(tag_names__overlap=sorted(preferences.ignored), then=Value("ignored")))
    return questions.annotate(watch_state=Case(*whens, default=Value(""), output_field=CharField()))
