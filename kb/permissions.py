"""May this user do that? Predicates `can_<verb>(user, obj)`, asked by views and services alike."""

from django.utils import timezone

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
    )


def can_edit_directly(user, post: Question | Answer) -> bool:
    """The author and moderators save edits at once; others' edits wait for review."""
    if not is_active_member(user) or post_is_deleted(post) or post_is_locked(post):
        return is_moderator(user) and not post_is_deleted(post)
    return post.author_id == user.pk or is_moderator(user)


def can_view(user, post: Question | Answer) -> bool:
    """Deleted posts are seen only by their author and moderators."""
    if not post_is_deleted(post):
        return True
    return user.is_authenticated and (post.author_id == user.pk or is_moderator(user))


def can_comment(user, post: Question | Answer) -> bool:
    """Members comment on open, visible posts; locked or deleted posts take no comments."""
    question = post if isinstance(post, Question) else post.question
    if not is_active_member(user) or post_is_deleted(post) or question.is_deleted:
        return False
    return is_moderator(user) or not (post_is_locked(post) or post_is_locked(question))
