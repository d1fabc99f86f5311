"""Votes, accepts and reputation on pages owned elsewhere, one line each in the host template:

- `{% vote_controls post %}`: the score between an up and a down button. Each button is a POST form
  to kb:question_vote / kb:answer_vote that works without JavaScript; static/kb/votes.js turns it
  into an in-place toggle over the API. Anonymous visitors get links to the login page.
- `{% accept_control answer %}`: the asker's accept / unaccept button, or the accepted mark.
- `{% reputation_section member %}`: privileges and the paginated reputation ledger on the user
  page.

The question view attaches `.viewer_vote` to the posts (kb.selectors.votes.viewer_votes_attach, one
query) and each answer's `.question`; what is decided here asks no query (the moderator check is
cached on the user)."""

from urllib.parse import quote

from django import template
from django.core.paginator import Paginator

from kb import permissions
from kb.models import Answer, Question
from kb.privileges import privileges_of
from kb.selectors.reputation import reputation_event_list, reputation_events_with_posts
from kb.templatetags.kb_pages import cached_reverse, question_url

register = template.Library()

REPUTATION_EVENTS_PER_PAGE = 20
REPUTATION_PAGE_PARAM = "reputation_page"


def post_url(post: Question | Answer) -> str:
    """The post's place on its question page."""
    if isinstance(post, Question):
        return question_url(post)
    return f"{question_url(post.question)}#answer-{post.pk}"


def login_url(post: Question | Answer) -> str:
    return f"{cached_reverse('accounts:login')}?next={quote(post_url(post), safe='/')}"


def _button(user, post: Question | Answer, value: int, current: int | None) -> dict:
    """One vote button: what submitting it does (the value, or 0 to retract the vote it shows)
    and why it may not be used, if so (shown as its title and, when clicked, in a message)."""
    pressed = current == value
    return {
        "value": 0 if pressed else value,
        "pressed": pressed,
        "refusal": permissions.vote_refusal(user, post, None if pressed else value),
    }


@register.inclusion_tag("kb/includes/_vote.html", takes_context=True)
def vote_controls(context, post: Question | Answer) -> dict:
    user = context["request"].user
    is_question = isinstance(post, Question)
    kind = "question" if is_question else "answer"
    current = getattr(post, "viewer_vote", None)
    controls = {
        "post": post,
        "kind": kind,
        "score": post.score,
        "csrf_token": context.get("csrf_token"),
        "member": user.is_authenticated,
    }
    if not user.is_authenticated:
        controls["login_url"] = login_url(post)
        return controls
    controls.update(
        form_url=cached_reverse(f"kb:{kind}_vote", pk=post.pk),
        api_url=cached_reverse(f"api:{kind}_vote", pk=post.pk),
        login_url=login_url(post),
        up=_button(user, post, 1, current),
        down=_button(user, post, -1, current),
    )
    return controls


@register.inclusion_tag("kb/includes/_accept.html", takes_context=True)
def accept_control(context, answer: Answer) -> dict:
    """The asker's button on answers that are not deleted; everyone else sees the mark."""
    user = context["request"].user
    question = answer.question
    accepted = answer.pk == question.accepted_answer_id
    may_accept = (
        user.is_authenticated
        and not answer.is_deleted
        and permissions.accept_refusal(user, question) is None
    )
    control = {"answer": answer, "accepted": accepted, "may_accept": may_accept}
    if may_accept:
        control.update(
            csrf_token=context.get("csrf_token"),
            form_url=cached_reverse("kb:answer_accept", pk=answer.pk),
            api_url=cached_reverse("api:answer_accept", pk=answer.pk),
        )
    return control


@register.inclusion_tag("kb/includes/_reputation.html", takes_context=True)
def reputation_section(context, member) -> dict:
    """The member's privileges (earned, and the reputation the others need) and one page of their
    ledger, newest first: public, as on Stack Overflow. Three queries: count, rows, the titles of
    the questions the rows point at (only those the viewer may see)."""
    request = context["request"]
    page = Paginator(reputation_event_list(user=member), REPUTATION_EVENTS_PER_PAGE).get_page(
        request.GET.get(REPUTATION_PAGE_PARAM)
    )
    page.object_list = reputation_events_with_posts(viewer=request.user, events=page.object_list)
    return {
        "request": request,
        "member": member,
        "privileges": privileges_of(member),
        "page": page,
        "page_param": REPUTATION_PAGE_PARAM,
    }
