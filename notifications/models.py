"""The loop back to members: inbox notifications, question follows, bookmarks, watched and
ignored tags, and e-mail settings.

Notifications are written by the kb services (through notifications.services), in the
transaction of the event they report, never by signals. Tag follows are not fanned out into
inbox rows: "my tags" is a query over TagPreference at read time.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    class Kind(models.TextChoices):
        ANSWER = "answer", _("new answer")
        COMMENT = "comment", _("comment on your post")
        MENTION = "mention", _("mention")
        EDITED = "edited", _("your post was edited")
        SUGGESTION_APPROVED = "suggestion_approved", _("suggested edit approved")
        SUGGESTION_IMPROVED = "suggestion_improved", _("suggested edit improved")
        SUGGESTION_REJECTED = "suggestion_rejected", _("suggested edit rejected")
        ACCEPTED = "accepted", _("answer accepted")
        CLOSED = "closed", _("question closed")
        DUPLICATE = "duplicate", _("marked as a duplicate")
        REOPENED = "reopened", _("question reopened")
        FLAG_HELPFUL = "flag_helpful", _("flag marked helpful")
        FLAG_DECLINED = "flag_declined", _("flag declined")
        MODERATOR_MESSAGE = "moderator_message", _("moderator message")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    # Where it happened: the thread, and the answer / comment / revision within it (the anchor).
    question = models.ForeignKey(
        "kb.Question", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answer = models.ForeignKey(
        "kb.Answer", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    comment = models.ForeignKey(
        "kb.Comment", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revision = models.ForeignKey(
        "kb.Revision", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    text = models.CharField(max_length=500, blank=True)  # a reason, or a moderator's message
    read_at = models.DateTimeField(null=True, blank=True)
    # Set when the row is claimed for e-mail (instant or digest), in the claiming transaction.
    mailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox"),
            # The header's unread count reads only this (small) index.
            models.Index(
                fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
            # send_notifications: what is not yet mailed, by age.
            models.Index(
                fields=["created_at"],
                condition=Q(mailed_at__isnull=True),
                name="notification_unmailed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"


class QuestionFollow(models.Model):
    """A member follows a question: new answers come to their inbox. Automatic for the asker,
    answerers and commenters; an unfollow is kept (`active=False`) so it is not undone by the
    next automatic follow."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="question_follows"
    )
    question = models.ForeignKey("kb.Question", on_delete=models.CASCADE, related_name="+")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "question"], name="one_follow_per_question")
        ]
        indexes = [
            models.Index(fields=["question"], condition=Q(active=True), name="follow_by_question")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.question_id}"


class Bookmark(models.Model):
    """收藏: a question a member keeps, listed on their profile."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookmarks"
    )
    question = models.ForeignKey("kb.Question", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "question"], name="one_bookmark_per_question")
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="bookmark_by_user")]

    def __str__(self) -> str:
        return f"{self.user_id} bookmarked {self.question_id}"


class TagPreference(models.Model):
    class Kind(models.TextChoices):
        WATCHED = "watched", _("watched")
        IGNORED = "ignored", _("ignored")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tag_preferences"
    )
    tag = models.ForeignKey("kb.Tag", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "tag"], name="one_preference_per_tag")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.tag_id}"


class NotificationSettings(models.Model):
    """A member's choices; a member without a row has the defaults (no e-mail, ignored tags
    greyed). `version` grows with every change: an unsubscribe link names the version it was
    made for, so it works once per setting change."""

    class EmailMode(models.TextChoices):
        NONE = "none", _("no e-mail")
        DAILY = "daily", _("a daily digest")
        INSTANT = "instant", _("at once")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_settings",
    )
    email_mode = models.CharField(max_length=10, choices=EmailMode.choices, default="none")
    hide_ignored = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)
    changed_at = models.DateTimeField(auto_now_add=True)
    last_digest_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Notification settings of {self.user_id}"
