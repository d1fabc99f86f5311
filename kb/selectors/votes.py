"""Reads of votes: the viewer's own votes on the posts of a page."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q

from kb.models import Answer, Question, Vote


@dataclass(frozen=True)
class ViewerVotes:
    question: int | None = None  # the viewer's vote on the question: 1, -1 or None
    answers: dict[int, int] = field(default_factory=dict)  # answer id -> 1 or -1

    def on(self, post: Question | Answer) -> int | None:
        if isinstance(post, Question):
            return self.question
        return self.answers.get(post.pk)


def viewer_votes(*, viewer, question: Question, answers: Iterable[Answer]) -> ViewerVotes:
    """The viewer's votes on a question and its answers: one query, none for anonymous viewers."""
    if not viewer.is_authenticated:
        return ViewerVotes()
    answer_ids = [answer.pk for answer in answers]
    rows = Vote.objects.filter(
        Q(question_id=question.pk) | Q(answer_id__in=answer_ids), user_id=viewer.pk
    ).values_list("question_id", "answer_id", "value")
    votes = ViewerVotes()
    for question_id, answer_id, value in rows:
        if question_id is not None:
            votes = ViewerVotes(question=value, answers=votes.answers)
        else:
            votes.answers[answer_id] = value
    return votes


def viewer_votes_attach(*, viewer, question: Question, answers: Iterable[Answer]) -> ViewerVotes:
    """Like viewer_votes, and set `.viewer_vote` (1, -1 or None) on the question and each answer
    for templates."""
    answers = list(answers)
    votes = viewer_votes(viewer=viewer, question=question, answers=answers)
    question.viewer_vote = votes.question
    for answer in answers:
        answer.viewer_vote = votes.answers.get(answer.pk)
    return votes
