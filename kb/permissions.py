"""May this user do that? Predicates `can_<verb>(user, obj)`, asked by views and services alike."""

from django.utils import timezone
from django.utils.translation import gettext as _

from kb import privileges
from kb.models import Answer, Question

MODERATOR_GROUP = "moderators"


def is_moderator(user) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    # Cached on the user object so a page asks the database once.
    if not hasattr(user, "_is_moderator"):
        user._is_moderator = user.groups.filter(name=MODERATOR_GROUP).exists()
    return user._is_moderator


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


def can_ask(user) -> bool:
    return is_active_member(user)


def can_answer(user, question: Question) -> bool:
    return (
        is_active_member(user)
        and question.status == Question.Status.OPEN
        and not post_is_locked(question)
        and (not question.protected or may_answer_protected(user))
    )


def may_answer_protected(user) -> bool:
    """A protected question takes answers from established members only."""
    from kb.rules import rule

    return is_moderator(user) or user.reputation >= rule("PROTECTED_ANSWER_REPUTATION")


def can_edit_directly(user, post: Question | Answer) -> bool:
    """The author, moderators and members with the edit-directly privilege save edits at once;
    others' edits wait for review."""
    if not is_active_member(user) or post_is_deleted(post) or post_is_locked(post):
        return is_moderator(user) and not post_is_deleted(post)
    return (
        post.author_id == user.pk
        or is_moderator(user)
        or privileges.has_privilege(user, privileges.EDIT_DIRECTLY)
    )


def can_view(user, post: Question | Answer) -> bool:
    """Deleted posts, and posts hidden by flags, are seen only by their author and moderators."""
    if not post_is_deleted(post) and not post.hidden_by_flags:
        return True
    return user.is_authenticated and (post.author_id == user.pk or is_moderator(user))


def vote_refusal(user, post: Question | Answer, value: int | None) -> str | None:
    """Why `user` may not vote `value` (1 or -1; None to retract) on `post`, or None if they may.
    Nobody votes on their own, deleted or locked posts; voting up and down need the privileges
    (moderators hold every privilege); retracting needs none."""
    if not is_active_member(user):
        return _("Log in to vote.")
    if post.author_id == user.pk:
        return _("You cannot vote on your own post.")
    question = post if isinstance(post, Question) else post.question
    if post_is_deleted(post) or question.is_deleted:
        return _("This post is deleted.")
    if post_is_locked(post) or post_is_locked(question):
        return _("This post is locked.")
    if value is not None:
        code = privileges.UPVOTE if value > 0 else privileges.DOWNVOTE
        if not privileges.has_privilege(user, code):
            message = (
                _("Voting up needs %(n)d reputation.")
                if value > 0
                else _("Voting down needs %(n)d reputation.")
            )
            return message % {"n": privileges.threshold(code)}
    return None


def can_vote(user, post: Question | Answer, value: int = 1) -> bool:
    return vote_refusal(user, post, value) is None


def accept_refusal(user, question: Question) -> str | None:
    """Why `user` may not accept (or unaccept) an answer to `question`, or None: only the asker
    may, on a question that is neither deleted nor locked."""
    if not is_active_member(user):
        return _("Log in to accept an answer.")
    if question.author_id != user.pk:
        return _("Only the asker can accept an answer.")
    if question.is_deleted:
        return _("This post is deleted.")
    if post_is_locked(question):
        return _("This post is locked.")
    return None


def can_accept(user, question: Question) -> bool:
    return accept_refusal(user, question) is None


def can_comment(user, post: Question | Answer) -> bool:
    """Members comment on open, visible posts; locked or deleted posts take no comments."""
    question = post if isinstance(post, Question) else post.question
    if not is_active_member(user) or post_is_deleted(post) or question.is_deleted:
        return False
    return is_moderator(user) or not (post_is_locked(post) or post_is_locked(question))


# --- Moderation (kb/services/reviews.py, flags.py, closing.py, moderation.py) ---------------


def can_moderate(user) -> bool:
    """Lock, protect, delete, merge, suspend, handle flags, read the moderation log."""
    return is_active_member(user) and is_moderator(user)


def can_review_edits(user) -> bool:
    """See the review queue of suggested edits (a post's author may also decide those on it)."""
    return is_active_member(user) and privileges.has_privilege(user, privileges.REVIEW_EDITS)


def can_review(user, revision, post: Question | Answer) -> bool:
    """Decide on one suggested edit: reviewers, the post's author and moderators; never its own
    author."""
    if not is_active_member(user) or revision.author_id == user.pk:
        return False
    return post.author_id == user.pk or can_review_edits(user)


def can_see_corrections(user) -> bool:
    """The correction queue (posts flagged inaccurate or outdated) is for those who edit
    directly."""
    return is_active_member(user) and privileges.has_privilege(user, privileges.EDIT_DIRECTLY)


def can_vote_close(user, question: Question) -> bool:
    if not is_active_member(user) or question.is_deleted:
        return False
    if post_is_locked(question) and not is_moderator(user):
        return False
    return privileges.has_privilege(user, privileges.CLOSE_VOTE)


def can_flag(user, target) -> bool:
    """Members flag others' visible posts and comments."""
    return is_active_member(user) and target.author_id != user.pk and not target.is_deleted


def can_edit(user, post: Question | Answer) -> bool:
    """May propose or save an edit at all (kb.services.edits checks the same): members, on posts
    that are neither deleted nor locked; moderators always."""
    if not is_active_member(user):
        return False
    if is_moderator(user):
        return True
    question = post if isinstance(post, Question) else post.question
    return not (post_is_deleted(post) or question.is_deleted or post_is_locked(post))


def practice_refusal(user) -> str | None:
    """Keeping a practice schedule on the site needs an active account; visitors practise with
    the schedule kept in their browser."""
    if not user.is_authenticated:
        return _("Log in to keep your practice schedule; until then it stays in this browser.")
    if not is_active_member(user):
        return _("Your account cannot practise now.")
    return None


def can_practise(user) -> bool:
    return practice_refusal(user) is None


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
