"""Reads of the reputation ledger."""

from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce

from accounts.models import ReputationEvent


def reputation_event_list(*, user) -> QuerySet[ReputationEvent]:
    """A user's ledger, newest first (one query per page), each row with `thread_id`: the
    question it is about (an answer's events point at the answer only). Public, as on Stack
    Overflow: rows carry post ids, never the text of a post the viewer may not see."""
    return (
        ReputationEvent.objects.filter(user=user)
        .select_related("reverses")
        .annotate(thread_id=Coalesce(F("question_id"), F("answer__question_id")))
        .order_by("-created_at", "-pk")
    )
