"""Reads of the reputation ledger."""

from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce

from accounts.models import ReputationEvent
from kb.models import Question


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


def reputation_events_with_posts(*, viewer, events) -> list[ReputationEvent]:
    """`events` (a page of the ledger) with `thread`: the question each row is about when the
    viewer may see it, else None (a deleted or hidden post is named by neither title nor link).
    One query for the page, none when no row points at a post."""
    events = list(events)
    thread_ids = {event.thread_id for event in events if event.thread_id is not None}
    threads = {}
    if thread_ids:
        threads = {
            question.pk: question
            for question in Question.objects.visible_to(viewer)
            .filter(pk__in=thread_ids)
            .only("pk", "title")
        }
    for event in events:
        event.thread = threads.get(event.thread_id)
    return events
