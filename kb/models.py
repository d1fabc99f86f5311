"""The knowledge base: questions, answers and everything that happens to them.

Questions and answers are separate tables. Tables that can point at either (Revision, Comment, Vote,
Flag) carry two nullable foreign keys and a check constraint that exactly one is set.
The current title/body/tags of a post are a copy of its newest approved Revision, kept by services.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kb.interview import DIFFICULTY_CHOICES
from kb.roles import is_moderator


def exactly_one_of(*fields: str) -> Q:
    """Q that holds when exactly one of the nullable foreign keys is set."""
    condition = Q()
    for chosen in fields:
        branch = Q(**{f"{chosen}__isnull": False})
        for other in fields:
            if other != chosen:
                branch &= Q(**{f"{other}__isnull": True})
        condition |= branch
    return condition


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=40, unique=True)
    description = models.TextField(_("description"), blank=True)
    question_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="tag_name_ci_unique")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("kb:tag_detail", kwargs={"name": self.name})


class TagAlias(models.Model):
    """Another name for a tag (层归一化 for layernorm). Unique across tags, case-insensitively."""

    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=40)

    class Meta:
        constraints = [models.UniqueConstraint(Lower("name"), name="tag_alias_ci_unique")]

    def __str__(self) -> str:
        return self.name


class RenderedMarkdown(models.Model):
    """Markdown source with its rendered, sanitised HTML and the renderer version that made it."""

    body = models.TextField(_("body"))
    body_html = models.TextField(editable=False)
    renderer_version = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        abstract = True


class InterviewFields(models.Model):
    """A question's interview fields (kb.interview), on Question and on each question Revision."""

    difficulty = models.CharField(
        _("difficulty"), max_length=12, blank=True, choices=DIFFICULTY_CHOICES
    )
    short_answer = models.TextField(_("short answer"), blank=True)
    key_points = ArrayField(models.TextField(), default=list, blank=True)
    common_mistakes = ArrayField(models.TextField(), default=list, blank=True)
    # [{"text": "...", "question_id": 12 | null}, ...]
    follow_ups = models.JSONField(default=list, blank=True)

    class Meta:
        abstract = True


def _hidden(viewer, prefix: str, removed: Q) -> Q | None:
    """What `viewer` may not see of rows reached through `prefix` ("" or a relation path such as
    "answer__question__"): removed or flag-hidden rows, except their author's own; None for
    moderators, who see everything."""
    if is_moderator(viewer):
        return None
    hidden = removed | Q(**{f"{prefix}hidden_by_flags": True})
    if viewer.is_authenticated:
        hidden &= ~Q(**{f"{prefix}author_id": viewer.pk})
    return hidden


class QuestionQuerySet(models.QuerySet):
    def visible_to(self, viewer) -> "QuestionQuerySet":
        """Deleted questions are visible only to their author and moderators."""
        hidden = self.hidden_from(viewer)
        return self if hidden is None else self.exclude(hidden)

    @staticmethod
    def hidden_from(viewer, prefix: str = "") -> Q | None:
        return _hidden(viewer, prefix, Q(**{f"{prefix}status": Question.Status.DELETED}))


class SoftDeletedQuerySet(models.QuerySet):
    """For rows with `is_deleted`: hidden ones are visible to their author and moderators."""

    def visible_to(self, viewer) -> "SoftDeletedQuerySet":
        hidden = self.hidden_from(viewer)
        return self if hidden is None else self.exclude(hidden)

    @staticmethod
    def hidden_from(viewer, prefix: str = "") -> Q | None:
        return _hidden(viewer, prefix, Q(**{f"{prefix}is_deleted": True}))


class Question(InterviewFields, RenderedMarkdown):
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")
        LOCKED = "locked", _("locked")
        DELETED = "deleted", _("deleted")

    class CloseReason(models.TextChoices):
        DUPLICATE = "duplicate", _("duplicate")
        OFF_TOPIC = "off_topic", _("off-topic")
        NEEDS_DETAILS = "needs_details", _("needs details")
        OPINION_BASED = "opinion_based", _("opinion-based")

    title = models.CharField(_("title"), max_length=150)
    tags = models.ManyToManyField(Tag, related_name="questions", blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="questions"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    close_reason = models.CharField(max_length=20, choices=CloseReason.choices, blank=True)
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="duplicates"
    )
    protected = models.BooleanField(default=False)
    locked_until = models.DateTimeField(null=True, blank=True)
    # Set when FLAGS_TO_HIDE spam or abusive flags are pending; cleared when a moderator acts.
    hidden_by_flags = models.BooleanField(default=False)
    accepted_answer = models.OneToOneField(
        "Answer", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    score = models.IntegerField(default=0)
    answer_count = models.PositiveIntegerField(default=0)
    view_count = models.PositiveIntegerField(default=0)
    revision_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now_add=True)
    last_activity_at = models.DateTimeField(auto_now_add=True)

    objects = QuestionQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["-created_at"], name="question_newest"),
            models.Index(fields=["-last_activity_at"], name="question_active"),
            models.Index(fields=["-score", "-created_at"], name="question_top"),
            # The unanswered tab: without it, a site where most questions have answers is scanned.
            models.Index(
                fields=["-created_at"], condition=Q(answer_count=0), name="question_unanswered"
            ),
            models.Index(fields=["author", "-created_at"], name="question_author"),
            GinIndex(fields=["title"], opclasses=["gin_trgm_ops"], name="question_title_trgm"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("kb:question_detail", kwargs={"pk": self.pk})

    @property
    def is_deleted(self) -> bool:
        return self.status == self.Status.DELETED


class ArticleImport(models.Model):
    """One import of an interview-notes article (kb.services.imports): where the text came from,
    who imported it, what it created, and whether it was undone. Its answers point back here:
    that is their provenance."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="article_imports"
    )
    source_title = models.CharField(_("source title"), max_length=300)
    source_url = models.URLField(_("source URL"), max_length=500, blank=True)
    license = models.CharField(_("license"), max_length=300, blank=True)
    source_name = models.CharField(max_length=200, blank=True)  # the file's name
    encoding = models.CharField(max_length=30, default="utf-8")
    content_hash = models.CharField(max_length=64, db_index=True)  # sha256 of the decoded text
    question_ids = models.JSONField(default=list, blank=True)  # questions it created
    answer_ids = models.JSONField(default=list, blank=True)  # answers it created
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Import {self.pk} of {self.source_title}"


class Answer(RenderedMarkdown):
    class Verification(models.TextChoices):
        VERIFIED = "verified", _("verified")
        UNVERIFIED = "unverified", _("unverified")

    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="answers"
    )
    score = models.IntegerField(default=0)
    is_deleted = models.BooleanField(default=False)
    locked_until = models.DateTimeField(null=True, blank=True)
    hidden_by_flags = models.BooleanField(default=False)
    revision_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now_add=True)
    # Imported answers are unverified until a reviewer verifies them or an edit is approved.
    verification = models.CharField(
        max_length=10, choices=Verification.choices, default=Verification.VERIFIED
    )
    imported_from = models.ForeignKey(
        ArticleImport, on_delete=models.PROTECT, null=True, blank=True, related_name="answers"
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)

    objects = SoftDeletedQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(
                fields=["verification", "created_at"],
                name="answer_unverified",
                condition=Q(verification="unverified"),
            ),
            models.Index(fields=["question", "-score", "created_at"], name="answer_by_question"),
            models.Index(fields=["author", "-created_at"], name="answer_author"),
        ]

    def __str__(self) -> str:
        return f"Answer {self.pk} to question {self.question_id}"

    def get_absolute_url(self) -> str:
        return reverse("kb:question_detail", kwargs={"pk": self.question_id}) + f"#answer-{self.pk}"


class Revision(InterviewFields):
    """One content state of a question or an answer. Append-only: a database trigger refuses
    deletes and changes to the content columns; only the review fields may change."""

    class Status(models.TextChoices):
        APPROVED = "approved", _("approved")
        PENDING = "pending", _("pending")
        REJECTED = "rejected", _("rejected")
        SUPERSEDED = "superseded", _("superseded")

    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, null=True, blank=True, related_name="revisions"
    )
    answer = models.ForeignKey(
        Answer, on_delete=models.PROTECT, null=True, blank=True, related_name="revisions"
    )
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=150, blank=True)
    body = models.TextField()
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="revisions"
    )
    summary = models.CharField(max_length=300, blank=True)
    base_revision = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rollback_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.APPROVED)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviewed_revisions",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=exactly_one_of("question", "answer"), name="revision_one_post"
            ),
            models.UniqueConstraint(
                fields=["question", "number"],
                condition=Q(question__isnull=False),
                name="revision_question_number_unique",
            ),
            models.UniqueConstraint(
                fields=["answer", "number"],
                condition=Q(answer__isnull=False),
                name="revision_answer_number_unique",
            ),
            models.UniqueConstraint(
                fields=["question"],
                condition=Q(status="pending", question__isnull=False),
                name="one_pending_revision_per_question",
            ),
            models.UniqueConstraint(
                fields=["answer"],
                condition=Q(status="pending", answer__isnull=False),
                name="one_pending_revision_per_answer",
            ),
        ]
        indexes = [
            # The review queue: the few pending suggestions among every revision, oldest first.
            models.Index(
                fields=["created_at", "id"],
                condition=Q(status="pending"),
                name="revision_pending_queue",
            ),
        ]

    def __str__(self) -> str:
        post = f"question {self.question_id}" if self.question_id else f"answer {self.answer_id}"
        return f"Revision {self.number} of {post}"

    @property
    def thread(self) -> "Question":
        """The question whose page shows this revision's post (select_related it for lists)."""
        return self.question or self.answer.question


class Comment(models.Model):
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, null=True, blank=True, related_name="comments"
    )
    answer = models.ForeignKey(
        Answer, on_delete=models.PROTECT, null=True, blank=True, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="comments"
    )
    body = models.TextField(max_length=600)
    body_html = models.TextField(editable=False)
    renderer_version = models.PositiveSmallIntegerField(default=0, editable=False)
    is_deleted = models.BooleanField(default=False)
    hidden_by_flags = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now_add=True)

    objects = SoftDeletedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=exactly_one_of("question", "answer"), name="comment_one_post"
            )
        ]

    def __str__(self) -> str:
        return f"Comment {self.pk}"


class CommentRevision(models.Model):
    """One state of a comment's text: 1 on creation, one more per edit. Append-only."""

    comment = models.ForeignKey(Comment, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField()
    body = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["comment", "number"], name="comment_revision_unique")
        ]

    def __str__(self) -> str:
        return f"Revision {self.number} of comment {self.comment_id}"


class Vote(models.Model):
    class Value(models.IntegerChoices):
        UP = 1, _("up")
        DOWN = -1, _("down")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="votes"
    )
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, null=True, blank=True, related_name="votes"
    )
    answer = models.ForeignKey(
        Answer, on_delete=models.PROTECT, null=True, blank=True, related_name="votes"
    )
    value = models.SmallIntegerField(choices=Value.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=exactly_one_of("question", "answer"), name="vote_one_post"
            ),
            models.CheckConstraint(
                condition=Q(value__in=[1, -1]), name="vote_value_plus_minus_one"
            ),
            models.UniqueConstraint(
                fields=["user", "question"],
                condition=Q(question__isnull=False),
                name="one_vote_per_user_question",
            ),
            models.UniqueConstraint(
                fields=["user", "answer"],
                condition=Q(answer__isnull=False),
                name="one_vote_per_user_answer",
            ),
        ]

    def __str__(self) -> str:
        return f"Vote {self.value:+d} by {self.user_id}"


class Flag(models.Model):
    class Reason(models.TextChoices):
        SPAM = "spam", _("spam")
        RUDE = "rude", _("rude or abusive")
        INACCURATE = "inaccurate", _("inaccurate")
        OUTDATED = "outdated", _("outdated")
        DUPLICATE = "duplicate", _("duplicate")
        MODERATOR = "moderator", _("needs moderator attention")

    # Reasons that ask for an edit rather than a moderator: they feed the correction queue.
    CORRECTION_REASONS = (Reason.INACCURATE, Reason.OUTDATED)

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        HELPFUL = "helpful", _("helpful")
        DECLINED = "declined", _("declined")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="flags"
    )
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, null=True, blank=True, related_name="flags"
    )
    answer = models.ForeignKey(
        Answer, on_delete=models.PROTECT, null=True, blank=True, related_name="flags"
    )
    comment = models.ForeignKey(
        Comment, on_delete=models.PROTECT, null=True, blank=True, related_name="flags"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    text = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="handled_flags",
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=exactly_one_of("question", "answer", "comment"), name="flag_one_target"
            ),
            *(
                models.UniqueConstraint(
                    fields=["user", target],
                    condition=Q(status="pending", **{f"{target}__isnull": False}),
                    name=f"one_pending_flag_per_user_{target}",
                )
                for target in ("question", "answer", "comment")
            ),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="flag_user_recent")]

    def __str__(self) -> str:
        return f"Flag {self.reason} by {self.user_id}"


class ReviewVote(models.Model):
    """One reviewer's decision on a suggested edit (a pending Revision). Two of a kind decide;
    the post's author and moderators decide alone."""

    class Decision(models.TextChoices):
        APPROVE = "approve", "approve"
        REJECT = "reject", "reject"

    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="review_votes")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_votes"
    )
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["revision", "reviewer"], name="one_review_per_reviewer")
        ]

    def __str__(self) -> str:
        return f"{self.decision} of revision {self.revision_id} by {self.reviewer_id}"


class CloseVote(models.Model):
    """A vote to close or to reopen a question. Active until the question's state is decided
    (CLOSE_VOTES_NEEDED votes, or a moderator); then kept, inactive, as history."""

    class Kind(models.TextChoices):
        CLOSE = "close", "close"
        REOPEN = "reopen", "reopen"

    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="close_votes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="close_votes"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reason = models.CharField(max_length=20, choices=Question.CloseReason.choices, blank=True)
    duplicate_of = models.ForeignKey(
        Question, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["question", "user", "kind"],
                condition=Q(is_active=True),
                name="one_active_close_vote_per_user",
            ),
            models.CheckConstraint(
                condition=Q(kind="reopen") | ~Q(reason=""), name="close_vote_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(duplicate_of__isnull=True) | Q(reason="duplicate"),
                name="close_vote_duplicate_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} vote on {self.question_id} by {self.user_id}"


class ModerationAction(models.Model):
    """The audit log: who did what to which post or user, when and why."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="moderation_actions"
    )
    action = models.CharField(max_length=30)
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answer = models.ForeignKey(
        Answer, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    comment = models.ForeignKey(
        Comment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)
    is_public = models.BooleanField(default=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["question", "-created_at"], name="moderation_by_question")]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_id}"


class QuestionSearch(models.Model):
    """A question's search document (title A, tags B, body C, live answers D), kept by
    kb.services.search_index in the transaction that changes the content. A table of its own, so
    reading questions never loads a tsvector."""

    question = models.OneToOneField(
        Question, on_delete=models.CASCADE, primary_key=True, related_name="search"
    )
    vector = SearchVectorField()
    search_version = models.PositiveIntegerField()

    class Meta:
        indexes = [GinIndex(fields=["vector"], name="question_search_vector")]

    def __str__(self) -> str:
        return f"Search document of question {self.question_id}"


class AnswerSearch(models.Model):
    """An answer's search document: its question's title (A) and tags (B), its body (C)."""

    answer = models.OneToOneField(
        Answer, on_delete=models.CASCADE, primary_key=True, related_name="search"
    )
    vector = SearchVectorField()
    search_version = models.PositiveIntegerField()

    class Meta:
        indexes = [GinIndex(fields=["vector"], name="answer_search_vector")]

    def __str__(self) -> str:
        return f"Search document of answer {self.answer_id}"


class SearchWord(models.Model):
    """An English word that occurs in indexed text: the lexicon typo correction looks in."""

    word = models.CharField(max_length=40, unique=True)

    class Meta:
        indexes = [GinIndex(fields=["word"], opclasses=["gin_trgm_ops"], name="searchword_trgm")]

    def __str__(self) -> str:
        return self.word


class Change(models.Model):
    """One change to a question, answer, comment or tag, for GET /api/v1/changes/ (the feed
    mirrors replay). Rows are written by database triggers (migration 0007_change_feed) in the
    writing transaction, so no write path can forget one; `xid` is that transaction's id, which
    lets the feed serve only what every earlier transaction has finished (docs/api.md)."""

    id = models.BigAutoField(primary_key=True)
    xid = models.BigIntegerField()
    kind = models.CharField(max_length=10)
    object_id = models.BigIntegerField()
    action = models.CharField(max_length=10)
    changed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["xid", "id"], name="change_cursor")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} {self.action}"
