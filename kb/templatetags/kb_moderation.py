"""Moderation pieces for pages owned elsewhere: `{% post_tools post %}` (banners, the flag form,
close/reopen and moderator tools under a question, an answer) and `{% question_timeline question %}`
(the public moderation timeline on the history page). Each is one line in the host template.

The tools ask no query for anonymous visitors; for members the page's pending suggestions are read
once per question (one query), whatever the number of answers.
"""

from django import template
from django.utils import timezone

from kb import permissions
from kb.models import Answer, Flag, Question, Revision
from kb.moderation_actions import action_label, lock_is_indefinite
from kb.selectors.moderation import close_vote_of, post_deleted_by_author
from kb.selectors.moderation import question_timeline as question_timeline_select
from kb.selectors.threads import in_thread

register = template.Library()


def _pending_on_page(request, question: Question) -> dict[tuple[str, int], Revision]:
    """Pending suggestions on the question and its answers, read once per request."""
    cache = getattr(request, "_kb_pending_suggestions", None)
    if cache is None:
        cache = request._kb_pending_suggestions = {}
    if question.pk not in cache:
        rows = Revision.objects.filter(in_thread(question), status=Revision.Status.PENDING)
        found = {}
        for revision in rows.select_related("author").only(
            "pk", "question_id", "answer_id", "number", "author__username",
            "author__display_name", "created_at",
        ):  # fmt: skip
            key = ("question", revision.question_id) if revision.question_id else (
                "answer", revision.answer_id
            )  # fmt: skip
            found[key] = revision
        cache[question.pk] = found
    return cache[question.pk]


@register.inclusion_tag("kb/moderation/_post_tools.html", takes_context=True)
def post_tools(context, post: Question | Answer) -> dict:
    request = context["request"]
    user = request.user
    is_question = isinstance(post, Question)
    question = post if is_question else post.question
    kind = "question" if is_question else "answer"
    tools = {
        "post": post,
        "question": question,
        "kind": kind,
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "first": is_question,
        "is_locked": permissions.post_is_locked(post),
        "lock_indefinite": lock_is_indefinite(post),
        "now": timezone.now(),
    }
    if not user.is_authenticated:
        return tools
    moderator = permissions.can_moderate(user)
    pending = _pending_on_page(request, question).get((kind, post.pk))
    is_author = post.author_id == user.pk
    may_close = is_question and permissions.can_vote_close(user, post)
    # The viewer's pending close/reopen vote, to withdraw: read only for members who may vote
    # and whose vote does not decide alone (moderators), so most pages ask nothing more.
    my_close_vote = None
    if may_close and not moderator and post.status in ("open", "closed"):
        vote = close_vote_of(user=user, question=post)
        if permissions.close_vote_withdraw_refusal(user, vote) is None:
            my_close_vote = vote
    tools.update(
        member=permissions.is_active_member(user),
        moderator=moderator,
        pending=pending,
        pending_is_mine=pending is not None and pending.author_id == user.pk,
        may_review=pending is not None and permissions.review_refusal(user, pending, post) is None,
        may_flag=permissions.can_flag(user, post),
        may_close=may_close,
        my_close_vote=my_close_vote,
        may_delete=(moderator or is_author) and permissions.can_delete(user, post),
        may_undelete=post.is_deleted
        and (moderator or is_author)
        and permissions.undelete_refusal(
            user, post, deleted_by_author=not moderator and post_deleted_by_author(post)
        )
        is None,
        flag_reasons=Flag.Reason.choices,
        close_reasons=Question.CloseReason.choices,
    )
    return tools


@register.inclusion_tag("kb/moderation/_timeline.html", takes_context=True)
def question_timeline(context, question: Question) -> dict:
    request = context["request"]
    return {
        "question": question,
        "entries": question_timeline_select(viewer=request.user, question=question),
        "moderator": permissions.can_moderate(request.user),
    }


@register.filter
def moderation_action_label(action: str) -> str:
    return action_label(action)


@register.inclusion_tag("kb/moderation/_nav.html", takes_context=True)
def moderation_nav(context, current: str) -> dict:
    """Tabs between the review queues and the log, each shown to those who may use it."""
    user = context["request"].user
    return {
        "current": current,
        "reviewer": permissions.is_active_member(user),
        "editor": permissions.can_see_corrections(user),
        "moderator": permissions.can_moderate(user),
    }


@register.inclusion_tag("kb/moderation/_comment_tools.html", takes_context=True)
def comment_tools(context, comment) -> dict:
    """A flag link under someone else's comment; undelete for moderators. No queries."""
    user = context["request"].user
    if not user.is_authenticated:
        return {"comment": comment}
    return {
        "comment": comment,
        "csrf_token": context.get("csrf_token"),
        "may_flag": permissions.can_flag(user, comment),
        "may_undelete": comment.is_deleted and permissions.can_moderate(user),
    }
