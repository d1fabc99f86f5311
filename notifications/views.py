"""Pages: the inbox, achievements, follow / bookmark / tag buttons, notification settings and
the one-click unsubscribe. Thin: each calls one service or selector."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from kb import permissions
from kb.models import Question
from kb.templatetags.kb_pages import question_url
from kb.views.access import tag_or_404
from notifications import selectors, services
from notifications.forms import ModeratorMessageForm, NotificationSettingsForm
from notifications.mail import unsubscribe_token_read
from notifications.models import Notification, NotificationSettings

PER_PAGE = 30


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


@require_safe
@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    unread = request.GET.get("unread") == "1"
    items = selectors.inbox_list(viewer=request.user, unread=unread)
    page = Paginator(items, PER_PAGE).get_page(request.GET.get("page"))
    for item in page.object_list:
        item.url = selectors.notification_url(item)
    return render(request, "notifications/inbox.html", {"page": page, "unread": unread})


@require_safe
@login_required
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Opening an item marks it read and goes to the exact place it is about."""
    try:
        notification = services.notification_open(actor=request.user, pk=pk)
    except Notification.DoesNotExist as error:
        raise Http404 from error
    return redirect(selectors.notification_url(notification))


@require_POST
@login_required
def inbox_mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_read(actor=request.user, everything=True)
    messages.success(request, _("Marked %(n)d items read.") % {"n": count})
    return redirect("notifications:inbox")


@require_safe
@login_required
def achievements(request: HttpRequest) -> HttpResponse:
    rows = selectors.achievement_list(viewer=request.user)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    groups = selectors.achievement_groups(viewer=request.user, rows=page.object_list)
    return render(request, "notifications/achievements.html", {"page": page, "groups": groups})


def _followable_or_404(request: HttpRequest, pk: int) -> Question:
    try:
        return services.followable_question_get(viewer=request.user, pk=pk)
    except Question.DoesNotExist as error:
        raise Http404 from error


def _question_toggle(
    request: HttpRequest, pk: int, *, field: str, on, off, on_message, off_message
) -> HttpResponse:
    """Follow and bookmark are the same on/off switch over a question; `field` "0" turns it off."""
    question = _followable_or_404(request, pk)
    if request.POST.get(field) == "0":
        off(actor=request.user, question=question)
        messages.success(request, off_message)
    else:
        on(actor=request.user, question=question)
        messages.success(request, on_message)
    return redirect(question_url(Question.objects.only("pk", "title").get(pk=question.pk)))


@require_POST
@login_required
def question_follow(request: HttpRequest, pk: int) -> HttpResponse:
    return _question_toggle(
        request,
        pk,
        field="follow",
        on=services.question_follow,
        off=services.question_unfollow,
        on_message=_("You follow this question: new answers come to your inbox."),
        off_message=_("You no longer follow this question."),
    )


@require_POST
@login_required
def question_bookmark(request: HttpRequest, pk: int) -> HttpResponse:
    return _question_toggle(
        request,
        pk,
        field="bookmark",
        on=services.bookmark_add,
        off=services.bookmark_remove,
        on_message=_("Bookmarked: find it on your profile."),
        off_message=_("Removed from your bookmarks."),
    )


@require_POST
@login_required
def tag_preference(request: HttpRequest, name: str) -> HttpResponse:
    tag = tag_or_404(name)
    kind = request.POST.get("kind") or None
    try:
        services.tag_watch(actor=request.user, tag=tag, kind=kind)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return _back(request, tag.get_absolute_url())


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def notification_settings(request: HttpRequest) -> HttpResponse:
    preferences = selectors.tag_preferences_get(viewer=request.user)
    initial = {
        "email_mode": preferences.email_mode,
        "hide_ignored": preferences.hide_ignored,
        "watched": " ".join(sorted(preferences.watched)),
        "ignored": " ".join(sorted(preferences.ignored)),
    }
    form = NotificationSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                services.tag_preferences_set(
                    actor=request.user,
                    watched=form.names(data["watched"]),
                    ignored=form.names(data["ignored"]),
                )
                services.notification_settings_set(
                    actor=request.user,
                    email_mode=data["email_mode"],
                    hide_ignored=data["hide_ignored"],
                )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Your notification settings are saved."))
            return redirect("notifications:settings")
    return render(
        request, "notifications/settings.html", {"form": form, "current": "notifications"}
    )


@csrf_exempt  # the signed token is the credential; mail clients POST it (RFC 8058)
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """A signed link from a mail: GET shows a one-button page (a link scanner fetching it
    changes nothing); POST turns e-mail off without logging in."""
    try:
        user_id, version = unsubscribe_token_read(token)
    except ValidationError:
        return render(request, "notifications/unsubscribe.html", {"state": "invalid"}, status=400)
    row = NotificationSettings.objects.filter(user_id=user_id).only("version", "email_mode").first()
    if request.method != "POST":
        valid = row is not None and row.version == version
        state = "confirm" if valid else "used"
        return render(request, "notifications/unsubscribe.html", {"state": state, "token": token})
    try:
        services.email_unsubscribe(token=token)
    except (ValidationError, PermissionDenied):
        return render(request, "notifications/unsubscribe.html", {"state": "used"}, status=410)
    return render(request, "notifications/unsubscribe.html", {"state": "done"})


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def moderator_message(request: HttpRequest, username: str) -> HttpResponse:
    """A moderator writes to a member; it arrives in their inbox."""
    member = get_object_or_404(get_user_model(), username=username)
    permissions.refuse(permissions.moderator_message_refusal(request.user, member))
    form = ModeratorMessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.notification_moderator_message(
                actor=request.user, recipient=member, text=form.cleaned_data["text"]
            )
        except ValidationError as error:
            form.add_error("text", error.messages)
        else:
            messages.success(request, _("Your message is in their inbox."))
            return redirect("kb:user_detail", username=member.username)
    return render(request, "notifications/moderator_message.html", {"form": form, "member": member})
