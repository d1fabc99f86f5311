"""Who may reach a view, and what it may look up: the one lookup-or-404 per kind, used by the
pages and the API alike (DRF answers Http404 in the API's error shape), and the one
`member_required` for pages.

Visibility is decided by the selectors (kb.selectors.questions), never here: a lookup only turns
"the viewer may not see it" into 404. What the viewer may *do* with what they found is the
rulebook's question (kb.permissions), asked by the service the view calls.
"""

from functools import wraps

from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from kb.models import Answer, ArticleImport, Comment, Question, Revision, Tag
from kb.selectors.imports import import_get
from kb.selectors.moderation import review_edit_get
from kb.selectors.questions import answer_get, question_get
from kb.selectors.tags import tag_get

# --- Lookups ----------------------------------------------------------------------------------


def question_or_404(request: HttpRequest, pk: int) -> Question:
    try:
        return question_get(viewer=request.user, pk=pk)
    except Question.DoesNotExist as error:
        raise Http404 from error


def answer_or_404(request: HttpRequest, pk: int) -> Answer:
    """The answer (with its question) when the viewer may see both."""
    try:
        return answer_get(viewer=request.user, pk=pk)
    except Answer.DoesNotExist as error:
        raise Http404 from error


def post_or_404(request: HttpRequest, post_model, pk: int) -> Question | Answer:
    if post_model is Question:
        return question_or_404(request, pk)
    return answer_or_404(request, pk)


def comment_or_404(request: HttpRequest, pk: int) -> tuple[Comment, Question]:
    """The comment and the question whose page shows it, when the viewer may see the comment and
    the post it is on."""
    try:
        comment = Comment.objects.visible_to(request.user).select_related("author").get(pk=pk)
    except Comment.DoesNotExist as error:
        raise Http404 from error
    if comment.answer_id:
        return comment, answer_or_404(request, comment.answer_id).question
    return comment, question_or_404(request, comment.question_id)


def target_or_404(request: HttpRequest, kind: str, pk: int) -> Question | Answer | Comment:
    """What a moderation tool or a flag acts on: "question", "answer" or "comment"."""
    if kind == "question":
        return question_or_404(request, pk)
    if kind == "answer":
        return answer_or_404(request, pk)
    if kind == "comment":
        return comment_or_404(request, pk)[0]
    raise Http404


def import_or_404(request: HttpRequest, pk: int) -> ArticleImport:
    try:
        return import_get(viewer=request.user, pk=pk)
    except ArticleImport.DoesNotExist as error:
        raise Http404 from error


def tag_or_404(name: str) -> Tag:
    """A tag by its name or an alias (tags are public)."""
    try:
        return tag_get(name=name)
    except Tag.DoesNotExist as error:
        raise Http404 from error


def suggested_edit_or_404(request: HttpRequest, pk: int) -> Revision:
    """A suggested edit the viewer may review or, being its author, see."""
    try:
        return review_edit_get(viewer=request.user, pk=pk)
    except Revision.DoesNotExist as error:
        raise Http404 from error


# --- Pages for members ------------------------------------------------------------------------

# What a logged-out visitor may have typed into a form that we show back to them.
_TEXT_FIELDS = ("title", "body", "tags", "summary", "short_answer", "key_points")


def _page_before(request: HttpRequest) -> str:
    """The page the visitor came from (same site only), for a login that follows a POST."""
    referer = request.headers.get("referer", "")
    if url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
        return referer
    return reverse("kb:home")


def member_required(view):
    """Log in first. A GET goes to the login page and back; a POST from someone whose session
    ended shows the login page with the text they typed, so it is not lost (or, with nothing
    typed, goes to the login page and back to the page the form was on)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.method != "POST":
            return redirect_to_login(request.get_full_path())
        kept = [(name, request.POST[name]) for name in _TEXT_FIELDS if request.POST.get(name)]
        if not kept:
            return redirect_to_login(_page_before(request))
        return render(
            request,
            "registration/login.html",
            {"form": AuthenticationForm(request), "next": _page_before(request), "kept": kept},
            status=401,
        )

    return wrapper
