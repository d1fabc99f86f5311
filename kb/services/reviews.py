"""Reviewing suggested edits.

A member who cannot edit a post directly saves a suggestion: a pending Revision (kb.services.edits
.post_edit; one per post at a time). Reviewers (the review privilege), the post's author and
moderators decide on it with `edit_review`:

- "approve" or "reject" (with a reason) records a ReviewVote; REVIEW_VOTES_NEEDED of a kind
  decide, and the post's author or a moderator decides alone.
- "improve" is the reviewer's own edit on top of the suggestion: the suggestion is approved and
  the reviewer's text saved as the next approved revision, whose base is the suggestion.
- Nobody reviews their own suggestion. An approved suggestion earns its author
  REPUTATION_EDIT_APPROVED through the ledger.
- When someone saves the post directly while a suggestion waits, `suggestion_supersede` marks the
  suggestion superseded and tells its author: a ModerationAction "edit_superseded" row naming them
  (target_user, not public), which their list of suggestions (`suggested_edit_list_by_author`)
  shows next to the status. There is no notification model; that list is where authors look.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kb import permissions
from kb.interview import Interview
from kb.models import Answer, Question, ReviewVote, Revision
from kb.rules import rule
from kb.services.audit_log import moderation_log
from kb.services.flags import flags_mark_corrected
from kb.services.locking import post_locked_row
from kb.services.moderation import clean_reason
from kb.services.post_content import PostContent, content_validated, summary_clean
from kb.services.reputation import reputation_edit_approved
from kb.services.revisions import revision_append, revision_make_current
from notifications import services as notify

Decision = ReviewVote.Decision
DECISIONS = ("approve", "reject", "improve")
REVIEW_NOTE_MAX_LENGTH = 300


@dataclass(frozen=True)
class ReviewResult:
    revision: Revision  # the suggestion, as it stands now
    outcome: str  # "pending" (the vote is recorded), "approved" or "rejected"
    improvement: Revision | None = None
    approvals: int = 0
    rejections: int = 0


def _post_key(post: Question | Answer) -> str:
    return "question" if isinstance(post, Question) else "answer"


def _locked_post_of(revision: Revision) -> Question | Answer:
    """Lock the suggestion's post (an answer's question first, as post_edit does)."""
    if revision.question_id:
        return post_locked_row(Question(pk=revision.question_id))
    return post_locked_row(Answer.objects.only("pk", "question_id").get(pk=revision.answer_id))


def _check_may_review(actor, revision: Revision, post: Question | Answer) -> None:
    permissions.refuse(permissions.review_refusal(actor, revision, post))


def _approve(*, actor, revision: Revision, post: Question | Answer, note: str = "") -> None:
    revision.status = Revision.Status.APPROVED
    revision.reviewer = actor
    revision.reviewed_at = timezone.now()
    revision.review_note = note
    revision.save(update_fields=["status", "reviewer", "reviewed_at", "review_note"])
    revision_make_current(post=post, revision=revision)
    reputation_edit_approved(revision=revision)
    flags_mark_corrected(actor=actor, post=post)
    notify.notification_post_edited(
        actor=revision.author, post=post, revision=revision, reviewer=actor
    )
    from kb.services.imports import answer_mark_verified

    answer_mark_verified(actor=actor, answer=post)  # an approved edit verifies an import


@transaction.atomic
def edit_review(
    *,
    actor,
    revision: Revision,
    decision: str,
    reason: str = "",
    body: str | None = None,
    title: str | None = None,
    tags: list[str] | None = None,
    summary: str = "",
) -> ReviewResult:
    """Approve, reject (with `reason`) or improve (with the new `body`/`title`/`tags`) a pending
    suggested edit."""
    post = _locked_post_of(revision)
    revision = Revision.objects.select_for_update().get(pk=revision.pk)
    _check_may_review(actor, revision, post)
    if decision not in DECISIONS:
        raise ValidationError({"decision": _("Choose approve, reject or improve.")})
    if revision.status != Revision.Status.PENDING:
        raise ValidationError(
            {
                "non_field_errors": _(
                    "This suggested edit is no longer pending (it is %(status)s)."
                )
                % {"status": revision.get_status_display()}
            }
        )
    reason = clean_reason(reason, required=decision == "reject", max_length=REVIEW_NOTE_MAX_LENGTH)
    if ReviewVote.objects.filter(revision=revision, reviewer=actor).exists():
        raise ValidationError({"non_field_errors": _("You have already reviewed this edit.")})
    improved = None
    if decision == "improve":
        suggestion = PostContent(
            title=revision.title,
            body=revision.body,
            tags=list(revision.tags),
            interview=Interview.of(revision) if revision.question_id else Interview(),
        )
        improved = content_validated(
            actor,
            post,
            PostContent(
                title=suggestion.title if title is None else title,
                body=suggestion.body if body is None else body,
                tags=suggestion.tags if tags is None else list(tags),
                interview=suggestion.interview,
            ),
        )
        if improved == suggestion:
            raise ValidationError({"body": _("Nothing changed: approve the suggestion instead.")})
        summary = summary_clean(summary)
    ReviewVote.objects.create(
        revision=revision,
        reviewer=actor,
        decision=Decision.REJECT if decision == "reject" else Decision.APPROVE,
        reason=reason,
    )
    votes = list(ReviewVote.objects.filter(revision=revision).values_list("decision", "reason"))
    approvals = sum(1 for d, _r in votes if d == Decision.APPROVE)
    rejections = len(votes) - approvals
    alone = permissions.is_moderator(actor) or post.author_id == actor.pk
    needed = rule("REVIEW_VOTES_NEEDED")
    counts = {"approvals": approvals, "rejections": rejections}

    if decision == "improve":
        _approve(actor=actor, revision=revision, post=post)
        improvement = revision_append(
            post=post,
            author=actor,
            title=improved.title,
            body=improved.body,
            tags=improved.tags,
            interview=improved.interview,
            summary=summary or _("Improved a suggested edit"),
            base_revision=revision,
        )
        moderation_log(
            actor=actor,
            action="edit_improve",
            target=post,
            target_user=revision.author,
            details={"revision": revision.number, "improvement": improvement.number},
        )
        notify.notification_edit_reviewed(
            actor=actor, post=post, revision=revision, outcome="improved"
        )
        return ReviewResult(
            revision=revision, outcome="approved", improvement=improvement, **counts
        )
    if decision == "approve" and (alone or approvals >= needed):
        _approve(actor=actor, revision=revision, post=post)
        moderation_log(
            actor=actor,
            action="edit_approve",
            target=post,
            target_user=revision.author,
            details={"revision": revision.number, **counts},
        )
        notify.notification_edit_reviewed(
            actor=actor, post=post, revision=revision, outcome="approved"
        )
        return ReviewResult(revision=revision, outcome="approved", **counts)
    if decision == "reject" and (alone or rejections >= needed):
        notes = [r for d, r in votes if d == Decision.REJECT and r]
        revision.status = Revision.Status.REJECTED
        revision.reviewer = actor
        revision.reviewed_at = timezone.now()
        revision.review_note = "; ".join(dict.fromkeys(notes))[:REVIEW_NOTE_MAX_LENGTH]
        revision.save(update_fields=["status", "reviewer", "reviewed_at", "review_note"])
        moderation_log(
            actor=actor,
            action="edit_reject",
            target=post,
            target_user=revision.author,
            reason=revision.review_note,
            details={"revision": revision.number, **counts},
        )
        notify.notification_edit_reviewed(
            actor=actor, post=post, revision=revision, outcome="rejected"
        )
        return ReviewResult(revision=revision, outcome="rejected", **counts)
    moderation_log(
        actor=actor,
        action="edit_review_vote",
        target=post,
        target_user=revision.author,
        reason=reason,
        is_public=False,
        details={"revision": revision.number, "decision": decision},
    )
    return ReviewResult(revision=revision, outcome="pending", **counts)


def suggestion_supersede(*, actor, post: Question | Answer, by: Revision) -> Revision | None:
    """A direct edit (revision `by`) was saved while a suggestion waited: mark the suggestion
    superseded and tell its author. Runs inside the edit's transaction, with the post locked."""
    pending = (
        Revision.objects.select_for_update()
        .filter(**{_post_key(post): post}, status=Revision.Status.PENDING)
        .exclude(pk=by.pk)
        .first()
    )
    if pending is None:
        return None
    pending.status = Revision.Status.SUPERSEDED
    pending.reviewed_at = timezone.now()
    pending.review_note = _("Superseded by revision %(n)d.") % {"n": by.number}
    pending.save(update_fields=["status", "reviewed_at", "review_note"])
    moderation_log(
        actor=actor,
        action="edit_superseded",
        target=post,
        target_user=pending.author,
        is_public=False,
        details={"revision": pending.number, "superseded_by": by.number},
    )
    return pending
