import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A member. Profile fields live here: one row, no join for author cards.

    `reputation` is a cache of the sum of the user's ReputationEvent rows (the ledger is the truth).
    """

    display_name = models.CharField(_("display name"), max_length=60, blank=True)
    bio = models.TextField(_("bio"), max_length=2000, blank=True)
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=10,
        blank=True,
        choices=[("zh-hans", "简体中文"), ("en", "English")],
    )
    reputation = models.IntegerField(_("reputation"), default=1)
    is_system = models.BooleanField(
        default=False, help_text="The account that owns starter content."
    )
    suspended_until = models.DateTimeField(null=True, blank=True)
    # The earliest due time of the member's practice cards (practice.services keeps it), so the
    # header's "due today" count costs a query only when something is due.
    practice_due_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(reputation__gte=1), name="reputation_at_least_1"
            ),
        ]

    @property
    def shown_name(self) -> str:
        return self.display_name or self.username


class ReputationEvent(models.Model):
    """One row of the reputation ledger. A user's reputation is the sum of `amount`."""

    class Kind(models.TextChoices):
        QUESTION_UPVOTED = "question_upvoted", _("question upvoted")
        ANSWER_UPVOTED = "answer_upvoted", _("answer upvoted")
        DOWNVOTED = "downvoted", _("post downvoted")
        DOWNVOTE_CAST = "downvote_cast", _("downvoted an answer")
        ANSWER_ACCEPTED = "answer_accepted", _("answer accepted")
        ACCEPTED_AN_ANSWER = "accepted_an_answer", _("accepted an answer")
        EDIT_APPROVED = "edit_approved", _("suggested edit approved")
        SPAM_REMOVED = "spam_removed", _("post removed as spam")
        BONUS = "bonus", _("bonus")
        REVERSAL = "reversal", _("reversal")

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="reputation_events")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    amount = models.IntegerField()
    question = models.ForeignKey(
        "kb.Question", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answer = models.ForeignKey(
        "kb.Answer", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    vote = models.ForeignKey(
        "kb.Vote", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.amount:+d}"


class ApiToken(models.Model):
    """A named API token. Only the SHA-256 of the key is stored; the key is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=60)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(
        max_length=8, help_text="First characters of the key, to recognise it."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def new_key() -> str:
        return secrets.token_urlsafe(30)
