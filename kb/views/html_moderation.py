"""Moderation pages: the review queue of suggested edits, the flag queue, the correction queue,
the moderation log, a member's suspension form, and the POST endpoints behind the tools on the
question page. Every write calls the same service as the API; refusals come back as the page with
the reason in a message and a 400 or 403 status."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from kb import permissions
from kb.diff import inline_diff_html, tags_diff
from kb.interview import interview_diff
from kb.models import Answer, Comment, Flag, Question, Revision
from kb.moderation_actions import ACTIONS
from kb.selectors.moderation import (
    correction_queue,
    flag_groups_for,
    flag_queue,
    moderation_log_list,
    review_edit_get,
    review_edit_list,
    suggested_edit_list_by_author,
    unverified_answer_list,
)
from kb.selectors.questions import question_get
from kb.services import closing, flags, moderation, reviews
from kb.services import page_cache as page_versions
from kb.services.comments import comment_delete
from kb.services.flags import CORRECTION_REASONS
from kb.templatetags.kb_pages import question_url
from kb.views.access import member_required, suggested_edit_or_404, target_or_404
from kb.views.page_cache import depend, depend_on_users, fragment_key, member_page

User = get_user_model()
UNVERIFIED_SHOWN = 50  # imported answers waiting for a check, shown under the flagged posts

QUEUE_PAGE_SIZE = 20
LOG_PAGE_SIZE = 50


def _messages_of(error: Exception) -> list[str]:
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            return [str(m) for messages_ in error.message_dict.values() for m in messages_]
        return [str(m) for m in error.messages]
    return [str(error) or _("You cannot do that.")]


def _refused(request: HttpRequest, error: Exception) -> int:
    """Put the refusal's reasons in messages; return the status to answer with."""
    for message in _messages_of(error):
        messages.error(request, message)
    return 403 if isinstance(error, PermissionDenied) else 400


def _int_field(request: HttpRequest, name: str, *, required: bool) -> int | None:
    raw = request.POST.get(name, "").strip()
    if not raw and not required:
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise ValidationError({name: _("Enter a whole number.")})
    return int(raw)


# --- Looking up what the tools act on ---------------------------------------------------------


def _target_url(target) -> str:
    if isinstance(target, Question):
        return question_url(target)
    if isinstance(target, Answer):
        return f"{question_url(target.question)}#answer-{target.pk}"
    post = target.answer or target.question
    question = post if isinstance(post, Question) else post.question
    return f"{question_url(question)}#comment-{target.pk}"


def _question_of(target) -> Question:
    if isinstance(target, Question):
        return target
    if isinstance(target, Answer):
        return target.question
    return target.question or target.answer.question


# --- The tools on the question page -----------------------------------------------------------


def _flag(request, target):
    flags.flag_create(
        actor=request.user,
        target=target,
        reason=request.POST.get("reason", ""),
        text=request.POST.get("text", ""),
    )
    return _("Thank you: your flag is with the moderators.")


def _close(request, question):
    result = closing.question_close(
        actor=request.user,
        question=question,
        reason=request.POST.get("reason", ""),
        duplicate_of=_int_field(request, "duplicate_of", required=False),
    )
    if result.decided:
        return _("The question is closed.")
    return _("Your vote to close is counted (%(n)d of %(needed)d).") % {
        "n": result.votes,
        "needed": result.needed,
    }


def _reopen(request, question):
    result = closing.question_reopen(actor=request.user, question=question)
    if result.decided:
        return _("The question is reopened.")
    return _("Your vote to reopen is counted (%(n)d of %(needed)d).") % {
        "n": result.votes,
        "needed": result.needed,
    }


def _lock(request, post):
    moderation.post_lock(
        actor=request.user,
        post=post,
        reason=request.POST.get("reason", ""),
        days=_int_field(request, "days", required=False),
    )
    return _("The post is locked.")


def _unlock(request, post):
    moderation.post_unlock(actor=request.user, post=post, reason=request.POST.get("reason", ""))
    return _("The post is unlocked.")


def _protect(request, question):
    moderation.question_protect(
        actor=request.user, question=question, reason=request.POST.get("reason", "")
    )
    return _("The question is protected.")


def _unprotect(request, question):
    moderation.question_protect(
        actor=request.user,
        question=question,
        protected=False,
        reason=request.POST.get("reason", ""),
    )
    return _("The question is no longer protected.")


def _delete(request, target):
    reason = request.POST.get("reason", "")
    if isinstance(target, Comment):
        comment_delete(actor=request.user, comment=target, reason=reason)
        return pgettext("moderation", "The comment is deleted.")
    moderation.post_delete(
        actor=request.user, post=target, reason=reason, spam=request.POST.get("spam") == "on"
    )
    return _("The post is deleted.")


def _undelete(request, target):
    reason = request.POST.get("reason", "")
    if isinstance(target, Comment):
        moderation.comment_undelete(actor=request.user, comment=target, reason=reason)
        return _("The comment is restored.")
    moderation.post_undelete(actor=request.user, post=target, reason=reason)
    return _("The post is restored.")


def _merge(request, question):
    into_pk = _int_field(request, "into", required=True)
    try:
        into = question_get(viewer=request.user, pk=into_pk)
    except Question.DoesNotExist as error:
        raise ValidationError({"into": _("No question %(n)d.") % {"n": into_pk}}) from error
    moderation.question_merge(
        actor=request.user, question=question, into=into, reason=request.POST.get("reason", "")
    )
    return _("The answers are moved to the original question.")


def _close_withdraw(request, question):
    result = closing.close_vote_withdraw(actor=request.user, question=question)
    return _("Your vote is withdrawn (%(n)d of %(needed)d left).") % {
        "n": result.votes,
        "needed": result.needed,
    }


POST_ACTIONS = {
    ("question", "flag"): _flag,
    ("answer", "flag"): _flag,
    ("comment", "flag"): _flag,
    ("question", "close"): _close,
    ("question", "reopen"): _reopen,
    ("question", "withdraw_close_vote"): _close_withdraw,
    ("question", "merge"): _merge,
    ("question", "protect"): _protect,
    ("question", "unprotect"): _unprotect,
    ("question", "lock"): _lock,
    ("answer", "lock"): _lock,
    ("question", "unlock"): _unlock,
    ("answer", "unlock"): _unlock,
    ("question", "delete"): _delete,
    ("answer", "delete"): _delete,
    ("comment", "delete"): _delete,
    ("question", "undelete"): _undelete,
    ("answer", "undelete"): _undelete,
    ("comment", "undelete"): _undelete,
}


# Destructive tools ask first: a GET of their address is a page with the same form to confirm
# (static/kb/confirm.js shows that form in a dialog on the question page instead).
CONFIRMED_ACTIONS = {"delete", "merge"}


def _confirm_refusal(request: HttpRequest, target, action: str):
    """The rule the confirmation page asks before offering the form (the POST asks it again)."""
    if action == "merge":
        return permissions.moderate_refusal(request.user)
    if isinstance(target, Comment):
        return permissions.comment_delete_refusal(request.user, target)
    return permissions.delete_refusal(request.user, target)


@require_http_methods(["GET", "HEAD", "POST"])
@member_required
def post_action(request: HttpRequest, kind: str, pk: int, action: str) -> HttpResponse:
    """One tool on the question page: flag, close, reopen, merge, (un)protect, (un)lock,
    (un)delete. Success goes back to the post with a message; a refusal is a short page with the
    reasons and a link back, answered with 400 or 403. A GET of a destructive tool (delete,
    merge) is the page that asks to confirm it."""
    handler = POST_ACTIONS.get((kind, action))
    if handler is None:
        raise Http404
    if request.method != "POST" and action not in CONFIRMED_ACTIONS:
        return HttpResponseNotAllowed(["POST"])
    target = target_or_404(request, kind, pk)
    if request.method != "POST":
        refusal = _confirm_refusal(request, target, action)
        if refusal is not None:
            return render(
                request,
                "kb/moderation/refused.html",
                {
                    "reasons": [refusal.message],
                    "back_url": _target_url(target),
                    "refusal_code": refusal.code,
                },
                status=403,
            )
        return render(
            request,
            "kb/moderation/confirm.html",
            {
                "target": target,
                "kind": kind,
                "action": action,
                "moderator": permissions.can_moderate(request.user),
                "into": request.GET.get("into", "")[:9],
                "back_url": _target_url(target),
            },
        )
    try:
        message = handler(request, target)
    except (ValidationError, PermissionDenied) as error:
        return render(
            request,
            "kb/moderation/refused.html",
            {
                "reasons": _messages_of(error),
                "back_url": _target_url(target),
                "refusal_code": getattr(error, "code", "")
                if isinstance(error, PermissionDenied)
                else "",
            },
            status=403 if isinstance(error, PermissionDenied) else 400,
        )
    messages.success(request, message)
    return redirect(_target_url(target))


@require_http_methods(["GET", "HEAD", "POST"])
@member_required
def comment_flag(request: HttpRequest, pk: int) -> HttpResponse:
    """A comment has no room for the flag form: it gets this page."""
    comment = target_or_404(request, "comment", pk)
    back_url = _target_url(comment)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        try:
            message = _flag(request, comment)
        except (ValidationError, PermissionDenied) as error:
            errors = _messages_of(error)
            status = 403 if isinstance(error, PermissionDenied) else 400
        else:
            messages.success(request, message)
            return redirect(back_url)
    return render(
        request,
        "kb/moderation/flag_comment.html",
        {
            "comment": comment,
            "reasons": Flag.Reason.choices,
            "chosen": request.POST.get("reason", ""),
            "text": request.POST.get("text", ""),
            "errors": errors,
            "back_url": back_url,
        },
        status=status,
    )


# --- The review queue -------------------------------------------------------------------------


def _with_diffs(revisions) -> list[Revision]:
    """Each suggestion with its diffs against its base. A revision's content never changes once
    written (every change is a new revision), so the diffs of (revision, base) are cached for
    good, all of a page's in one cache read (kb.views.page_cache.fragment_key: per language)."""
    revisions = list(revisions)
    keys = {
        revision.pk: fragment_key("review-diff", revision.pk, revision.base_revision_id)
        for revision in revisions
    }
    found = cache.get_many(list(keys.values())) if keys else {}
    computed = {}
    for revision in revisions:
        base = revision.base_revision
        revision.post = revision.question or revision.answer
        key = keys[revision.pk]
        if key not in found:
            body = inline_diff_html(base.body if base else "", revision.body)
            title = ""
            if revision.question_id and base is not None and base.title != revision.title:
                title = inline_diff_html(base.title, revision.title)
            computed[key] = (body, title)
        revision.body_diff_html, title_diff_html = found.get(key) or computed[key]
        if revision.question_id and base is not None:
            revision.title_diff_html = title_diff_html
            revision.tag_changes = tags_diff(list(base.tags), list(revision.tags))
            revision.interview_changes = [
                change for change in interview_diff(base, revision) if change.changed
            ]
        revision.approvals = sum(1 for v in revision.review_votes.all() if v.decision == "approve")
        revision.rejections = sum(1 for v in revision.review_votes.all() if v.decision == "reject")
    if computed:
        cache.set_many(computed, settings.PAGE_CACHE_SECONDS)
    return revisions


def _review_queue_page(request: HttpRequest, *, status: int = 200) -> HttpResponse:
    if not permissions.is_active_member(request.user):
        raise PermissionDenied(_("Log in to review."))
    page = Paginator(review_edit_list(viewer=request.user), QUEUE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    mine = list(suggested_edit_list_by_author(viewer=request.user)[:10])
    # Every suggestion, review vote and decision moves the question's version and LIST (the
    # audit log's one writer, kb.services.audit_log), the names shown their members'.
    depend(request, page_versions.LIST)
    depend_on_users(request, {s.author_id for s in page.object_list})
    return render(
        request,
        "kb/moderation/review_edits.html",
        {
            "page": page,
            "suggestions": _with_diffs(page.object_list),
            "mine": mine,
            "is_reviewer": permissions.can_review_edits(request.user),
        },
        status=status,
    )


@require_safe
@member_required
@member_page
def review_edits(request: HttpRequest) -> HttpResponse:
    return _review_queue_page(request)


@require_http_methods(["GET", "HEAD", "POST"])
@member_required
def review_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: one suggested edit with its diff and the improve form. POST: decide on it."""
    revision = suggested_edit_or_404(request, pk)
    improve = {}
    status = 200
    if request.method == "POST":
        decision = request.POST.get("decision", "")
        data = {"decision": decision, "reason": request.POST.get("reason", "")}
        if decision == "improve":
            improve = {
                "body": request.POST.get("body", ""),
                "summary": request.POST.get("summary", ""),
            }
            if revision.question_id:
                improve["title"] = request.POST.get("title", "")
                tags = request.POST.get("tags", "")
                improve["tags"] = [t for t in tags.replace(",", " ").split() if t]
        try:
            result = reviews.edit_review(actor=request.user, revision=revision, **data, **improve)
        except (ValidationError, PermissionDenied) as error:
            status = _refused(request, error)
            if decision != "improve" and request.POST.get("next") == "queue":
                return _review_queue_page(request, status=status)
        else:
            outcome = {
                "approved": _("The suggested edit is approved."),
                "rejected": _("The suggested edit is rejected."),
                "pending": _("Your review is counted; one more reviewer decides."),
            }[result.outcome]
            messages.success(request, outcome)
            if request.POST.get("next") == "queue":
                return redirect("kb:review_edits")
            return redirect("kb:review_edit", pk=revision.pk)
        revision = review_edit_get(viewer=request.user, pk=pk)
    [revision] = _with_diffs([revision])
    post = revision.post
    may_review = (
        revision.status == Revision.Status.PENDING
        and permissions.review_refusal(request.user, revision, post) is None
        and not any(v.reviewer_id == request.user.pk for v in revision.review_votes.all())
    )
    initial = {
        "title": improve.get("title", revision.title),
        "tags": " ".join(improve["tags"]) if "tags" in improve else " ".join(revision.tags),
        "body": improve.get("body", revision.body),
        "summary": improve.get("summary", ""),
    }
    return render(
        request,
        "kb/moderation/review_edit.html",
        {"revision": revision, "may_review": may_review, "initial": initial,
         "reason": request.POST.get("reason", "") if request.method == "POST" else ""},
        status=status,
    )  # fmt: skip


# --- The flag and correction queues -----------------------------------------------------------


def _flag_groups_page(request, keys, *, reasons=None):
    page = Paginator(keys, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    groups = flag_groups_for(keys=list(page.object_list), reasons=reasons)
    for group in groups:
        group.url = _target_url(group.target)
    return page, groups


def _flag_queue_page(request: HttpRequest, *, status: int = 200) -> HttpResponse:
    if not permissions.can_moderate(request.user):
        raise PermissionDenied(_("Only moderators can see the flag queue."))
    page, groups = _flag_groups_page(request, flag_queue(viewer=request.user))
    return render(
        request, "kb/moderation/flag_queue.html", {"page": page, "groups": groups}, status=status
    )


@require_safe
@member_required
def flag_queue_view(request: HttpRequest) -> HttpResponse:
    return _flag_queue_page(request)


@require_POST
@member_required
def flag_resolve(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    if kind not in ("question", "answer", "comment"):
        raise Http404
    target = target_or_404(request, kind, pk)
    try:
        result = flags.flags_resolve(
            actor=request.user,
            target=target,
            decision=request.POST.get("decision", ""),
            note=request.POST.get("note", ""),
        )
    except (ValidationError, PermissionDenied) as error:
        return _flag_queue_page(request, status=_refused(request, error))
    if result.removed:
        messages.success(request, _("Flags marked helpful; the post is removed."))
    elif result.decision == "helpful":
        messages.success(request, _("Flags marked helpful."))
    else:
        messages.success(request, _("Flags declined."))
    return redirect("kb:review_flags")


@require_safe
@member_required
def correction_queue_view(request: HttpRequest) -> HttpResponse:
    if not permissions.can_see_corrections(request.user):
        raise PermissionDenied(_("The correction queue is for members who edit directly."))
    page, groups = _flag_groups_page(
        request, correction_queue(viewer=request.user), reasons=CORRECTION_REASONS
    )
    unverified = list(unverified_answer_list(viewer=request.user)[: UNVERIFIED_SHOWN + 1])
    return render(
        request,
        "kb/moderation/corrections.html",
        {
            "page": page,
            "groups": groups,
            "unverified": unverified[:UNVERIFIED_SHOWN],
            "more_unverified": len(unverified) > UNVERIFIED_SHOWN,
            "can_import": permissions.can_import(request.user),
        },
    )


# --- The log and suspensions ------------------------------------------------------------------


@require_safe
@member_required
def moderation_log(request: HttpRequest) -> HttpResponse:
    if not permissions.can_moderate(request.user):
        raise PermissionDenied(_("Only moderators can read the moderation log."))
    action = request.GET.get("action", "")
    action = action if action in ACTIONS else ""
    question = request.GET.get("question", "")
    rows = moderation_log_list(
        viewer=request.user,
        action=action,
        actor=request.GET.get("actor", "")[:150],
        user=request.GET.get("user", "")[:150],
        question_id=int(question) if question.isdigit() and len(question) < 10 else None,
    )
    page = Paginator(rows, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "kb/moderation/log.html",
        {
            "page": page,
            "actions": sorted((code, str(label)) for code, label in ACTIONS.items()),
            "filters": {
                "action": action,
                "actor": request.GET.get("actor", ""),
                "user": request.GET.get("user", ""),
                "question": question,
            },
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@member_required
def user_suspend(request: HttpRequest, username: str) -> HttpResponse:
    if not permissions.can_moderate(request.user):
        raise PermissionDenied(_("Only moderators can suspend members."))
    member = get_object_or_404(User, username=username)
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("action") == "unsuspend":
                moderation.user_unsuspend(
                    actor=request.user, user=member, reason=request.POST.get("reason", "")
                )
                messages.success(request, _("The suspension is lifted."))
            else:
                moderation.user_suspend(
                    actor=request.user,
                    user=member,
                    days=_int_field(request, "days", required=True),
                    reason=request.POST.get("reason", ""),
                )
                messages.success(request, _("The member is suspended."))
        except (ValidationError, PermissionDenied) as error:
            status = _refused(request, error)
        else:
            return redirect(reverse("kb:user_suspend", kwargs={"username": member.username}))
    member.refresh_from_db(fields=["suspended_until"])
    history = moderation_log_list(viewer=request.user, user=member.username)[:20]
    return render(
        request,
        "kb/moderation/suspend.html",
        {
            "member": member,
            "is_suspended": member.suspended_until is not None
            and member.suspended_until > timezone.now(),
            "history": history,
            "post": request.POST if status != 200 else {},
        },
        status=status,
    )
