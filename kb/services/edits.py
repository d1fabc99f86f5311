"""Editing posts: direct edits, suggested (pending) edits, three-way merges of concurrent edits,
and rollbacks. Every path appends a Revision; nothing is overwritten."""

from dataclasses import dataclass

import merge3
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kb import permissions
from kb.interview import Interview, merge_interview, validate_interview
from kb.models import Answer, Question, Revision
from kb.services.locking import post_locked_row
from kb.services.post_content import PostContent, content_validated, summary_clean
from kb.services.reviews import suggestion_supersede
from kb.services.revisions import newest_approved, revision_append
from notifications import services as notify


class EditConflict(Exception):
    """The post moved on and the two edits touch the same lines. Carries everything the user needs
    to redo the edit: the current revision, their own text, and the merge with conflict markers."""

    def __init__(self, *, current: Revision, yours: PostContent, merged: PostContent,
                 conflicts: list[str]):  # fmt: skip
        super().__init__(_("The post was edited meanwhile and the changes overlap."))
        self.current = current
        self.yours = yours
        self.merged = merged
        self.conflicts = conflicts


@dataclass(frozen=True)
class EditResult:
    revision: Revision
    merged: bool  # True when a concurrent edit was merged in

    @property
    def pending(self) -> bool:
        return self.revision.status == Revision.Status.PENDING


def _content_of(revision: Revision) -> PostContent:
    interview = Interview.of(revision) if revision.question_id else Interview()
    return PostContent(
        title=revision.title, body=revision.body, tags=list(revision.tags), interview=interview
    )


def _merge_text(base: str, theirs: str, yours: str) -> tuple[str, bool]:
    """Line-based three-way merge. Returns (text, clean); unclean text has conflict markers."""
    if theirs == yours or yours == base:
        return theirs, True
    if theirs == base:
        return yours, True
    merger = merge3.Merge3(
        base.splitlines(keepends=True), theirs.splitlines(keepends=True),
        yours.splitlines(keepends=True),
    )  # fmt: skip
    clean = all(group[0] != "conflict" for group in merger.merge_groups())
    text = "".join(
        merger.merge_lines(
            name_a=_("current version"),
            name_b=_("your edit"),
            start_marker="<<<<<<<",
            mid_marker="=======",
            end_marker=">>>>>>>",
        )  # fmt: skip
    )
    return text, clean


def _merge_tags(base: list[str], theirs: list[str], yours: list[str]) -> list[str]:
    """Apply your additions and removals on top of theirs; tags never conflict."""
    added = [t for t in yours if t not in base]
    removed = {t for t in base if t not in yours}
    merged = [t for t in theirs if t not in removed]
    return merged + [t for t in added if t not in merged]


def merge_edit(*, base: PostContent, theirs: PostContent, yours: PostContent):
    """Three-way merge of a post's fields. Returns (merged content, names of conflicting fields)."""
    conflicts = []
    body, clean = _merge_text(base.body, theirs.body, yours.body)
    if not clean:
        conflicts.append("body")
    title, clean = _merge_text(base.title, theirs.title, yours.title)
    if not clean:
        conflicts.append("title")
        title = yours.title
    tags = _merge_tags(base.tags, theirs.tags, yours.tags)
    interview, interview_conflicts = merge_interview(base.interview, theirs.interview,
                                                     yours.interview)  # fmt: skip
    conflicts += interview_conflicts
    return PostContent(title=title, body=body, tags=tags, interview=interview), conflicts


def _check_may_edit(actor, post: Question | Answer) -> None:
    permissions.refuse(permissions.edit_refusal(actor, post))


@transaction.atomic
def post_edit(
    *,
    actor,
    post: Question | Answer,
    base_revision: int,
    body: str,
    title: str | None = None,
    tags: list[str] | None = None,
    summary: str = "",
    interview: dict | None = None,
) -> EditResult:
    """Edit a question or an answer, starting from revision number `base_revision`.

    The author and moderators save at once; anyone else's edit waits as a pending revision. When
    the post moved on since `base_revision`, a clean three-way merge is saved; overlapping
    changes raise EditConflict and store nothing. Title, tags and the interview fields
    (`interview`: a dict of kb.interview.FIELDS; a missing key keeps the current value) apply
    to questions only.
    """
    post = post_locked_row(post)
    _check_may_edit(actor, post)
    summary = summary_clean(summary)
    current = newest_approved(post=post)
    base = (
        Revision.objects.filter(
            **{"question" if isinstance(post, Question) else "answer": post}, number=base_revision
        ).first()
        if isinstance(base_revision, int)
        else None
    )
    if base is None:
        raise ValidationError(
            {"base_revision": _("Unknown revision %(n)s.") % {"n": base_revision}}
        )
    yours = PostContent(
        title=current.title if title is None else title,
        body=body,
        tags=list(current.tags) if tags is None else list(tags),
        interview=_interview_input(current, interview),
    )
    merged_in = False
    if base.pk != current.pk:
        merged, conflicts = merge_edit(base=_content_of(base), theirs=_content_of(current),
                                       yours=yours)  # fmt: skip
        if conflicts:
            raise EditConflict(current=current, yours=yours, merged=merged, conflicts=conflicts)
        yours, merged_in = merged, True
    content = content_validated(actor, post, yours)
    if content == _content_of(current) or (
        isinstance(post, Answer) and content.body == current.body
    ):
        raise ValidationError({"body": _("Nothing changed.")})
    direct = permissions.can_edit_directly(actor, post)
    if (
        not direct
        and Revision.objects.filter(
            **{"question" if isinstance(post, Question) else "answer": post},
            status=Revision.Status.PENDING,
        ).exists()
    ):
        raise ValidationError(
            {"non_field_errors": _("This post already has a suggested edit waiting for review.")}
        )
    revision = revision_append(
        post=post,
        author=actor,
        title=content.title,
        body=content.body,
        tags=content.tags,
        interview=content.interview,
        summary=summary,
        status=Revision.Status.APPROVED if direct else Revision.Status.PENDING,
        base_revision=current if merged_in else base,
    )
    if direct:
        _after_direct_edit(actor=actor, post=post, revision=revision)
    return EditResult(revision=revision, merged=merged_in)


def _interview_input(current: Revision, given: dict | None) -> Interview:
    """The edit's interview fields: the current ones overlaid with what the editor sent,
    validated (field by field, so before any merge)."""
    if not current.question_id:
        return Interview()
    values = Interview.of(current).model_values()
    values.update({k: v for k, v in (given or {}).items() if k in values})
    return validate_interview(**values)


def _after_direct_edit(*, actor, post: Question | Answer, revision: Revision) -> None:
    """A waiting suggestion is superseded (its author is told); inaccurate/outdated flags on the
    post count as corrected."""
    from kb.services.flags import flags_mark_corrected

    suggestion_supersede(actor=actor, post=post, by=revision)
    flags_mark_corrected(actor=actor, post=post)
    notify.notification_post_edited(actor=actor, post=post, revision=revision)
    if post.author_id != actor.pk:  # another member's direct edit verifies an imported answer
        from kb.services.imports import answer_mark_verified

        answer_mark_verified(actor=actor, answer=post)


@transaction.atomic
def revision_rollback(*, actor, post: Question | Answer, to: int, summary: str = "") -> Revision:
    """Write a new revision whose content equals revision `to`. Nothing is removed."""
    post = post_locked_row(post)
    permissions.refuse(permissions.rollback_refusal(actor, post))
    key = "question" if isinstance(post, Question) else "answer"
    target = (
        Revision.objects.filter(**{key: post}, number=to).first() if isinstance(to, int) else None
    )
    if target is None or target.status != Revision.Status.APPROVED:
        raise ValidationError({"to": _("Unknown or unapproved revision %(n)s.") % {"n": to}})
    current = newest_approved(post=post)
    if target.pk == current.pk:
        raise ValidationError({"to": _("That is already the current revision.")})
    default_summary = _("Rolled back to revision %(n)d") % {"n": target.number}
    revision = revision_append(
        post=post,
        author=actor,
        title=target.title,
        body=target.body,
        tags=list(target.tags),
        interview=Interview.of(target) if target.question_id else None,
        summary=summary_clean(summary) or default_summary,
        base_revision=current,
        rollback_of=target,
    )
    _after_direct_edit(actor=actor, post=post, revision=revision)
    return revision
