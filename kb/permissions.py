"""The rulebook: may this viewer do that? Asked by services (which raise), templates (which
show a control only when allowed) and the API alike.

Each rule is `<action>_refusal(viewer, obj)`, returning None (allowed) or a `Refusal` with a
machine code and a human message (zh/en by the active language). `can_<verb>(user, obj)` are thin
boolean wrappers over them; `refuse(refusal)` raises `Refused` (a PermissionDenied carrying the
code, which the API's error shape reports).
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from kb import privileges
from kb.models import Answer, Question
from kb.roles import MODERATOR_GROUP, is_moderator  # noqa: F401 (the rulebook's names)


@dataclass(frozen=True)
class Refusal:
    """Why an action is refused: `code` for machines and tests, `message` for people."""

    code: str
    message: str

    def __str__(self) -> str:
        return str(self.message)


class Refused(PermissionDenied):
    """A rulebook refusal raised by a service; kb.api_errors reports its code."""

    def __init__(self, refusal: Refusal):
        super().__init__(str(refusal.message))
        self.refusal = refusal
        self.code = refusal.code


def refuse(refusal: Refusal | None) -> None:
    """Raise `Refused` when there is a refusal; services call it after asking a rule."""
    if refusal is not None:
        raise Refused(refusal)


def member_refusal(user, *, login_message: str | None = None) -> Refusal | None:
    """Why `user` may not write at all: not logged in, deactivated or suspended."""
    if not user.is_authenticated:
        return Refusal("login_required", login_message or _("Log in first."))
    if not user.is_active:
        return Refusal("inactive", _("This account is deactivated."))
    until = user.suspended_until
    if until is not None and until > timezone.now():
        return Refusal(
            "suspended",
            _("Your account is suspended until %(until)s.")
            % {"until": formats.date_format(timezone.localtime(until), "DATETIME_FORMAT")},
        )
    return None


def privilege_refusal(user, code: str, message: str) -> Refusal | None:
    """Refused with `message` (which may name the threshold as %(n)d) unless `user` holds the
    privilege `code`."""
    if privileges.has_privilege(user, code):
        return None
    return Refusal("needs_privilege", message % {"n": privileges.threshold(code)})


def is_active_member(user) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.suspended_until is None or user.suspended_until <= timezone.now()


def post_is_locked(post: Question | Answer) -> bool:
    if isinstance(post, Question) and post.status == Question.Status.LOCKED:
        return True
    return post.locked_until is not None and post.locked_until > timezone.now()


def post_is_deleted(post: Question | Answer) -> bool:
    return post.is_deleted


def visibility_refusal(user, post: Question | Answer) -> Refusal | None:
    """Refused as "not_found" when `user` may not see `post` (or its question) at all: pages
    and the API answer it with 404."""
    if not can_view(user, post) or (isinstance(post, Answer) and not can_view(user, post.question)):
        return Refusal("not_found", _("No such post."))
    return None


def _member_seeing(user, post, login_message: str) -> Refusal | None:
    """The start of every rule on a post: visitors log in first; members must see the post,
    then be active (not deactivated or suspended)."""
    if not user.is_authenticated:
        return member_refusal(user, login_message=login_message)
    return visibility_refusal(user, post) or member_refusal(user, login_message=login_message)


def ask_refusal(user) -> Refusal | None:
    """Any active member may ask."""
    return member_refusal(user, login_message=_("Log in to ask a question."))


def can_ask(user) -> bool:
    return ask_refusal(user) is None


def answer_refusal(user, question: Question) -> Refusal | None:
    """Members answer visible questions that are open (not closed, deleted or locked); a
    protected question takes answers only from established members."""
    refusal = _member_seeing(user, question, _("Log in to answer."))
    if refusal:
        return refusal
    if question.is_deleted:
        return Refusal("deleted", _("This post is deleted."))
    if post_is_locked(question):
        return Refusal("locked", _("This post is locked."))
    if question.status != Question.Status.OPEN:
        return Refusal("closed", _("This question is closed: it takes no new answers."))
    if question.protected and not may_answer_protected(user):
        from kb.rules import rule

        return Refusal(
            "protected",
            _("This question is protected: answering it needs %(n)d reputation.")
            % {"n": rule("PROTECTED_ANSWER_REPUTATION")},
        )
    return None


def can_answer(user, question: Question) -> bool:
    return answer_refusal(user, question) is None


def may_answer_protected(user) -> bool:
    """A protected question takes answers from established members only."""
    from kb.rules import rule

    return is_moderator(user) or user.reputation >= rule("PROTECTED_ANSWER_REPUTATION")


def edit_directly_refusal(user, post: Question | Answer) -> Refusal | None:
    """The author, moderators and members with the edit-directly privilege save edits at once;
    others' edits wait for review (see `edit_refusal`, which says whether one may edit at all).
    Moderators edit locked posts directly; nobody edits a deleted one directly."""
    refusal = member_refusal(user, login_message=_("Log in to edit."))
    if refusal:
        return refusal
    if post_is_deleted(post):
        return Refusal("deleted", _("This post is deleted."))
    if is_moderator(user) or (post.author_id == user.pk and not post_is_locked(post)):
        return None
    if post_is_locked(post):
        return Refusal("locked", _("This post is locked."))
    return privilege_refusal(
        user, privileges.EDIT_DIRECTLY, _("Editing others' posts directly needs %(n)d reputation.")
    )


def can_edit_directly(user, post: Question | Answer) -> bool:
    return edit_directly_refusal(user, post) is None


def can_view(user, post: Question | Answer) -> bool:
    """Deleted posts, and posts hidden by flags, are seen only by their author and moderators."""
    if not post_is_deleted(post) and not post.hidden_by_flags:
        return True
    return user.is_authenticated and (post.author_id == user.pk or is_moderator(user))


def _question_of(post: Question | Answer) -> Question:
    return post if isinstance(post, Question) else post.question


def vote_refusal(user, post: Question | Answer, value: int | None) -> Refusal | None:
    """Why `user` may not vote `value` (1 or -1; None to retract) on `post`, or None if they may.
    Nobody votes on their own, deleted or locked posts; voting up and down need the privileges
    (moderators hold every privilege); retracting needs none."""
    refusal = _member_seeing(user, post, _("Log in to vote."))
    if refusal:
        return refusal
    if post.author_id == user.pk:
        return Refusal("own_post", _("You cannot vote on your own post."))
    question = _question_of(post)
    if post_is_deleted(post) or question.is_deleted:
        return Refusal("deleted", _("This post is deleted."))
    if post_is_locked(post) or post_is_locked(question):
        return Refusal("locked", _("This post is locked."))
    if value is None:
        return None
    if value > 0:
        return privilege_refusal(user, privileges.UPVOTE, _("Voting up needs %(n)d reputation."))
    return privilege_refusal(user, privileges.DOWNVOTE, _("Voting down needs %(n)d reputation."))


def can_vote(user, post: Question | Answer, value: int = 1) -> bool:
    return vote_refusal(user, post, value) is None


def accept_refusal(user, question: Question) -> Refusal | None:
    """Why `user` may not accept (or unaccept) an answer to `question`, or None: only the asker
    may, on a question that is neither deleted nor locked."""
    refusal = _member_seeing(user, question, _("Log in to accept an answer."))
    if refusal:
        return refusal
    if question.author_id != user.pk:
        return Refusal("not_asker", _("Only the asker can accept an answer."))
    if question.is_deleted:
        return Refusal("deleted", _("This post is deleted."))
    if post_is_locked(question):
        return Refusal("locked", _("This post is locked."))
    return None


def comment_refusal(user, post: Question | Answer) -> Refusal | None:
    """Members comment on visible posts that are not locked (moderators even on locked ones).
    Commenting everywhere needs the comment privilege; without it a member still comments on
    their own posts and on answers to their own question."""
    refusal = _member_seeing(user, post, _("Log in to comment."))
    if refusal:
        return refusal
    question = _question_of(post)
    if post_is_deleted(post) or question.is_deleted:
        return Refusal("deleted", _("This post is deleted."))
    if is_moderator(user):
        return None
    if post_is_locked(post) or post_is_locked(question):
        return Refusal("locked", _("This post is locked."))
    if post.author_id == user.pk or question.author_id == user.pk:
        return None
    return privilege_refusal(
        user,
        privileges.COMMENT,
        _("Commenting on others' posts needs %(n)d reputation (you may always comment on your "
          "own posts and on answers to your question)."),
    )  # fmt: skip


def can_comment(user, post: Question | Answer) -> bool:
    return comment_refusal(user, post) is None


def flag_refusal(user, target) -> Refusal | None:
    """Members with the flag privilege flag others' posts and comments that are not deleted."""
    if isinstance(target, Question | Answer):
        refusal = _member_seeing(user, target, _("Log in to flag."))
    else:
        refusal = member_refusal(user, login_message=_("Log in to flag."))
    if refusal:
        return refusal
    if target.author_id == user.pk:
        return Refusal("own_post", _("You cannot flag your own post."))
    if target.is_deleted:
        return Refusal("deleted", _("This post is deleted."))
    return privilege_refusal(user, privileges.FLAG, _("Flagging needs %(n)d reputation."))


def can_flag(user, target) -> bool:
    return flag_refusal(user, target) is None


def tag_create_refusal(user) -> Refusal | None:
    """Creating a tag that does not exist yet (neither as a name nor an alias)."""
    refusal = member_refusal(user, login_message=_("Log in first."))
    if refusal:
        return refusal
    return privilege_refusal(
        user, privileges.CREATE_TAG, _("Creating a new tag needs %(n)d reputation.")
    )


def comment_delete_refusal(user, comment) -> Refusal | None:
    """A comment is deleted by its author (an active member) or a moderator."""
    if not user.is_authenticated:
        return member_refusal(user)
    if is_moderator(user):
        return None
    refusal = member_refusal(user)
    if refusal:
        return refusal
    if comment.author_id != user.pk:
        return Refusal("not_author", _("You cannot delete this comment."))
    return None


def delete_refusal(user, post: Question | Answer) -> Refusal | None:
    """Moderators delete any post that is not deleted; its author too, unless it is locked, an
    accepted answer, or a question others have answered. One query for an author's question."""
    refusal = _member_seeing(user, post, _("Log in first."))
    if refusal:
        return refusal
    if post_is_deleted(post):
        return Refusal("already_deleted", _("This post is already deleted."))
    if is_moderator(user):
        return None
    if post.author_id != user.pk:
        return Refusal("not_author", _("Only the author and moderators can delete this post."))
    question = _question_of(post)
    if post_is_locked(post) or post_is_locked(question):
        return Refusal("locked", _("This post is locked."))
    if isinstance(post, Question):
        others = Answer.objects.filter(question=post, is_deleted=False).exclude(author_id=user.pk)
        if others.exists():
            return Refusal(
                "answered_by_others",
                _("A question with answers from others can only be deleted by a moderator."),
            )
    elif question.accepted_answer_id == post.pk:
        return Refusal("accepted", _("An accepted answer can only be deleted by a moderator."))
    return None


def can_delete(user, post: Question | Answer) -> bool:
    return delete_refusal(user, post) is None


def undelete_refusal(user, post: Question | Answer, *, deleted_by_author: bool) -> Refusal | None:
    """Moderators undelete any deleted post; its author only when the author deleted it
    (`deleted_by_author`: whether the newest delete was the author's own). An answer waits for
    its question to be undeleted first."""
    refusal = _member_seeing(user, post, _("Log in first."))
    if refusal:
        return refusal
    if not post_is_deleted(post):
        return Refusal("not_deleted", _("This post is not deleted."))
    if not is_moderator(user) and (post.author_id != user.pk or not deleted_by_author):
        return Refusal("not_author", _("Only moderators can undelete this post."))
    if isinstance(post, Answer) and post.question.is_deleted:
        return Refusal("question_deleted", _("Undelete the question first."))
    return None


# --- Moderation (kb/services/reviews.py, flags.py, closing.py, moderation.py) ---------------


def can_moderate(user) -> bool:
    """Lock, protect, delete, merge, suspend, handle flags, read the moderation log."""
    return moderate_refusal(user) is None


def can_review_edits(user) -> bool:
    """See the review queue of suggested edits (a post's author may also decide those on it)."""
    return is_active_member(user) and privileges.has_privilege(user, privileges.REVIEW_EDITS)


def review_refusal(user, revision, post: Question | Answer) -> Refusal | None:
    """Decide on one suggested edit: reviewers, the post's author and moderators; never its own
    author; only moderators on a deleted or locked post."""
    refusal = member_refusal(user, login_message=_("Log in to review."))
    if refusal:
        return refusal
    if revision.author_id == user.pk:
        return Refusal("own_edit", _("You cannot review your own suggested edit."))
    if post.author_id != user.pk and not can_review_edits(user):
        return privilege_refusal(
            user, privileges.REVIEW_EDITS, _("Reviewing suggested edits needs %(n)d reputation.")
        )
    if is_moderator(user):
        return None
    question = _question_of(post)
    if post_is_deleted(post) or question.is_deleted:
        return Refusal("deleted", _("This post is deleted."))
    if post_is_locked(post) or post_is_locked(question):
        return Refusal("locked", _("This post is locked."))
    return None


def can_review(user, revision, post: Question | Answer) -> bool:
    """Whether the review controls apply (the state of the post aside: see review_refusal)."""
    return (
        is_active_member(user)
        and revision.author_id != user.pk
        and (post.author_id == user.pk or can_review_edits(user))
    )


def can_see_corrections(user) -> bool:
    """The correction queue (posts flagged inaccurate or outdated) is for those who edit
    directly."""
    return is_active_member(user) and privileges.has_privilege(user, privileges.EDIT_DIRECTLY)


def close_vote_refusal(user, question: Question) -> Refusal | None:
    """Vote to close or reopen: members with the privilege, on questions that are not deleted;
    locked questions only by moderators."""
    refusal = _member_seeing(user, question, _("Log in to vote."))
    if refusal:
        return refusal
    if question.is_deleted:
        return Refusal("deleted", _("This post is deleted."))
    if post_is_locked(question) and not is_moderator(user):
        return Refusal("locked", _("This post is locked."))
    return privilege_refusal(
        user, privileges.CLOSE_VOTE, _("Voting to close and reopen needs %(n)d reputation.")
    )


def close_vote_withdraw_refusal(user, vote) -> Refusal | None:
    """Withdraw one's own close (or reopen) vote while it is still active, that is before the
    question is decided; `vote` is the viewer's active vote on the question, or None."""
    refusal = member_refusal(user, login_message=_("Log in to vote."))
    if refusal:
        return refusal
    if vote is None or not vote.is_active:
        return Refusal("no_vote", _("You have no vote on this question to withdraw."))
    if vote.user_id != user.pk:
        return Refusal("not_voter", _("Only the voter can withdraw this vote."))
    return None


def can_vote_close(user, question: Question) -> bool:
    return close_vote_refusal(user, question) is None


def edit_refusal(user, post: Question | Answer) -> Refusal | None:
    """May propose or save an edit at all (kb.services.edits asks it): members, on visible posts
    that are neither deleted nor locked; moderators always. Whether the edit is saved at once or
    waits for review is `edit_directly_refusal`."""
    refusal = _member_seeing(user, post, _("Log in to edit."))
    if refusal:
        return refusal
    if is_moderator(user):
        return None
    question = _question_of(post)
    if post_is_deleted(post) or question.is_deleted:
        return Refusal("deleted", _("This post is deleted."))
    if post_is_locked(post):
        return Refusal("locked", _("This post is locked."))
    return None


def can_edit(user, post: Question | Answer) -> bool:
    return edit_refusal(user, post) is None


def rollback_refusal(user, post: Question | Answer) -> Refusal | None:
    """Roll back to an earlier revision: whoever may edit the post directly."""
    refusal = edit_refusal(user, post)
    if refusal:
        return refusal
    refusal = edit_directly_refusal(user, post)
    if refusal and refusal.code == "needs_privilege":
        return Refusal(
            "needs_privilege", _("Only the author and moderators can roll back this post.")
        )
    return refusal


def moderate_refusal(user) -> Refusal | None:
    """Lock, unlock, protect, merge, suspend, handle flags: moderators only."""
    refusal = member_refusal(user)
    if refusal:
        return refusal
    if not is_moderator(user):
        return Refusal("not_moderator", _("Only moderators can do this."))
    return None


# --- Follows, bookmarks, inbox (notifications/) ---------------------------------------------


def follow_refusal(user, question: Question) -> Refusal | None:
    """Why `user` may not follow or bookmark `question`, or None: members, on questions they can
    see that are not deleted (views answer a refusal for a hidden or deleted question with 404)."""
    if not user.is_authenticated:
        return Refusal("login_required", _("Log in to follow questions."))
    if not user.is_active:
        return Refusal("inactive", _("Log in to follow questions."))
    if question.is_deleted or not can_view(user, question):
        return Refusal("not_found", _("No such question."))
    return None


def can_follow(user, question: Question) -> bool:
    return follow_refusal(user, question) is None


def can_read_notification(user, notification) -> bool:
    """An inbox is its recipient's alone (moderators included)."""
    return user.is_authenticated and notification.recipient_id == user.pk


def moderator_message_refusal(user, recipient) -> Refusal | None:
    if not can_moderate(user):
        return Refusal("not_moderator", _("Only moderators can send moderator messages."))
    if recipient.pk == user.pk:
        return Refusal("own_account", _("You cannot send a moderator message to yourself."))
    return None


def practice_refusal(user) -> Refusal | None:
    """Keeping a practice schedule on the site needs an active account; visitors practise with
    the schedule kept in their browser."""
    if not user.is_authenticated:
        return Refusal(
            "login_required",
            _("Log in to keep your practice schedule; until then it stays in this browser."),
        )
    if not is_active_member(user):
        return Refusal("inactive", _("Your account cannot practise now."))
    return None


def can_practise_question(user, question: Question) -> bool:
    """A question can be practised when the viewer may see it and it is not deleted."""
    return not question.is_deleted and can_view(user, question)


# --- Article imports (kb/services/imports.py) ----------------------------------------------


def can_import(user) -> bool:
    """Import an article of interview notes: moderators and members with the import privilege."""
    return is_active_member(user) and privileges.has_privilege(user, privileges.IMPORT_ARTICLES)


def can_undo_import(user, article_import) -> bool:
    """Undo a whole import: the member who imported it, or a moderator; once."""
    if not is_active_member(user) or article_import.undone_at is not None:
        return False
    return article_import.actor_id == user.pk or is_moderator(user)


def answer_is_unverified(answer: Answer) -> bool:
    return answer.verification == Answer.Verification.UNVERIFIED


def can_verify(user, answer: Answer) -> bool:
    """Mark an imported answer verified: members with the review privilege (moderators too), on
    an unverified answer that is not deleted; never the member who imported it."""
    if not is_active_member(user) or not answer_is_unverified(answer) or answer.is_deleted:
        return False
    if answer.author_id == user.pk and not is_moderator(user):
        return False
    return privileges.has_privilege(user, privileges.REVIEW_EDITS)
