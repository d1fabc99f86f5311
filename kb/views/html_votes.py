"""The vote and accept buttons of the question page, without JavaScript: each is a small POST form
that calls the same service as the API (kb.services.votes) and goes back to the post with a
message, whether the service did it or refused it. Anonymous visitors are sent to log in first.
static/kb/votes.js does the same in place through the API."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kb.models import Answer, Question
from kb.selectors.questions import answer_get, question_get
from kb.services.votes import (
    VoteLimitReached,
    answer_accept,
    answer_unaccept,
    vote_cast,
    vote_retract,
)
from kb.templatetags.kb_votes import post_url
from kb.views.access import answer_or_404, question_or_404

# The form's `value`: 1 up, -1 down, 0 withdraws the vote (the pressed button sends 0).
VOTE_VALUES = {"1": 1, "-1": -1, "0": 0}


def _login_first(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """A visitor logs in first, whatever the post (a post they cannot see is not named: they
    come back to the home page); after the login they come back to the post."""
    try:
        post = (
            question_get(viewer=request.user, pk=pk)
            if kind == "question"
            else answer_get(viewer=request.user, pk=pk)
        )
    except (Question.DoesNotExist, Answer.DoesNotExist):
        return redirect_to_login(reverse("kb:home"))
    return redirect_to_login(post_url(post))


def _refusal_tag(error: Exception) -> str:
    """The message's tag naming a rulebook refusal's code (kb.permissions.Refused)."""
    code = getattr(error, "code", None)
    return f"refusal-{code}" if isinstance(error, PermissionDenied) and code else ""


def _refusal_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or _("You cannot do that.")


def _vote(request: HttpRequest, post: Question | Answer) -> HttpResponse:
    back = post_url(post)
    if not request.user.is_authenticated:
        return redirect_to_login(back)
    value = VOTE_VALUES.get(request.POST.get("value", "").strip())
    try:
        if value is None:
            raise ValidationError(_("A vote is 1 (up) or -1 (down)."))
        if value == 0:
            result = vote_retract(actor=request.user, post=post)
        else:
            result = vote_cast(actor=request.user, post=post, value=value)
    except (VoteLimitReached, PermissionDenied, ValidationError) as error:
        messages.error(request, _refusal_text(error), extra_tags=_refusal_tag(error))
        return redirect(back)
    if result.value == 1:
        messages.success(request, _("Your upvote is counted."))
    elif result.value == -1:
        messages.success(request, _("Your downvote is counted."))
    else:
        messages.success(request, _("Your vote is withdrawn."))
    return redirect(back)


@require_POST
def question_vote(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return _login_first(request, "question", pk)
    return _vote(request, question_or_404(request, pk))


@require_POST
def answer_vote(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return _login_first(request, "answer", pk)
    return _vote(request, answer_or_404(request, pk))


@require_POST
def answer_accept_view(request: HttpRequest, pk: int) -> HttpResponse:
    """`accept=1` accepts the answer (replacing an earlier accept), `accept=0` withdraws it."""
    if not request.user.is_authenticated:
        return _login_first(request, "answer", pk)
    answer = answer_or_404(request, pk)
    back = post_url(answer)
    accept = request.POST.get("accept", "1").strip() != "0"
    try:
        if accept:
            answer_accept(actor=request.user, answer=answer)
        else:
            answer_unaccept(actor=request.user, answer=answer)
    except PermissionDenied as error:
        messages.error(request, _refusal_text(error), extra_tags=_refusal_tag(error))
        return redirect(back)
    if accept:
        messages.success(request, _("You accepted this answer."))
    else:
        messages.success(request, _("You withdrew your accept."))
    return redirect(back)
