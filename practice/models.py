"""Spaced-repetition practice: one card per member and question (its FSRS memory state and due
time) and one row per self-graded review. Anonymous visitors keep the same card state in their
browser's storage (static/practice/practice.js) until they sign up or log in."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kb.models import Question


class Grade(models.IntegerChoices):
    """FSRS ratings; the API and the keys 1–4 use these names."""

    AGAIN = 1, _("again")
    HARD = 2, _("hard")
    GOOD = 3, _("good")
    EASY = 4, _("easy")


GRADE_NAMES = {grade.name.lower(): grade for grade in Grade}


class CardState(models.IntegerChoices):
    LEARNING = 1, _("learning")
    REVIEW = 2, _("review")
    RELEARNING = 3, _("relearning")


class PracticeCard(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practice_cards"
    )
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    state = models.PositiveSmallIntegerField(choices=CardState.choices, default=CardState.LEARNING)
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    stability = models.FloatField(null=True, blank=True)
    difficulty = models.FloatField(null=True, blank=True)
    due = models.DateTimeField()
    last_review = models.DateTimeField(null=True, blank=True)
    review_count = models.PositiveIntegerField(default=0)
    lapse_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "question"], name="one_card_per_question"),
            models.CheckConstraint(condition=Q(state__in=[1, 2, 3]), name="card_state_known"),
        ]
        # "Due today" and the next due card: a member's cards by due time.
        indexes = [models.Index(fields=["user", "due"], name="card_user_due")]

    def __str__(self) -> str:
        return f"Card of {self.user_id} for question {self.question_id}"


class PracticeReview(models.Model):
    """One self-graded review: what retention and the progress chart are computed from."""

    card = models.ForeignKey(PracticeCard, on_delete=models.CASCADE, related_name="reviews")
    grade = models.PositiveSmallIntegerField(choices=Grade.choices)
    state_before = models.PositiveSmallIntegerField(choices=CardState.choices)
    reviewed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(grade__in=[1, 2, 3, 4]), name="review_grade_known")
        ]
        indexes = [models.Index(fields=["card", "reviewed_at"], name="review_card_time")]

    def __str__(self) -> str:
        return f"Review {self.get_grade_display()} of card {self.card_id}"
