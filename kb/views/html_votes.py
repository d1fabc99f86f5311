"""The vote and accept buttons of the question page, without JavaScript: each is a small POST form
that calls the same service as the API (kb.services.votes) and goes back to the post with a
message, whether the service did it or refused it. Anonymous visitors are sent to log in first.
static/kb/votes.js does the same in place through the API."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kb.models import Answer, Question
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
        messages.error(request, _refusal_text(error))
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
    return _vote(request, question_or_404(request, pk))


@require_POST
def answer_vote(request: HttpRequest, pk: int) -> HttpResponse:
    return _vote(request, answer_or_404(request, pk))


@require_POST
def answer_accept_view(request: HttpRequest, pk: int) -> HttpResponse:
    """`accept=1` accepts the answer (replacing an earlier accept), `accept=0` withdraws it."""
    answer = answer_or_404(request, pk)
    back = post_url(answer)
    if not request.user.is_authenticated:
        return redirect_to_login(back)
    accept = request.POST.get("accept", "1").strip() != "0"
    try:
        if accept:
            answer_accept(actor=request.user, answer=answer)
        else:
            answer_unaccept(actor=request.user, answer=answer)
    except PermissionDenied as error:
        messages.error(request, _refusal_text(error))
        return redirect(back)
    if accept:
        messages.success(request, _("You accepted this answer."))
    else:
        messages.success(request, _("You withdrew your accept."))
    return redirect(back)
