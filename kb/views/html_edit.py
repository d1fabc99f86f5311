"""Contributing pages: ask, answer, edit (with merges and conflicts), diffs, rollback, comments,
the Markdown preview and tag suggestions. Each write calls one service; refused input comes back
in the same form with its errors, as typed."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from kb import markdown
from kb.diff import inline_diff_html, side_by_side_rows, tags_diff
from kb.form_tokens import form_token_claim, form_token_done, form_token_release
from kb.forms import (
    AnswerForm,
    CommentForm,
    EditForm,
    QuestionForm,
    RollbackForm,
    add_service_errors,
    interview_initial,
    tag_names,
)
from kb.interview import Interview, interview_diff, interview_diff_of
from kb.models import Answer, Question, Revision
from kb.permissions import can_edit_directly, edit_refusal, refuse
from kb.rules import rule
from kb.selectors.questions import answer_get, question_get
from kb.selectors.revisions import revision_list
from kb.selectors.tags import tag_suggestions
from kb.services.answers import answer_create
from kb.services.comments import (
    comment_create,
    comment_delete,
    comment_edit,
    comment_is_editable,
)
from kb.services.edits import EditConflict, post_edit, revision_rollback
from kb.services.questions import question_create
from kb.services.validation import validate_body
from kb.templatetags.kb_pages import question_url
from kb.views.access import answer_or_404, comment_or_404, member_required, question_or_404
from kb.views.html import question_page


def _post_url(post: Question | Answer) -> str:
    if isinstance(post, Question):
        return question_url(post)
    return f"{question_url(post.question)}#answer-{post.pk}"


def _wants_preview(request: HttpRequest) -> bool:
    return request.method == "POST" and "preview" in request.POST


# ---------- Ask and answer ----------


@member_required
@require_http_methods(["GET", "HEAD", "POST"])
def ask(request: HttpRequest) -> HttpResponse:
    form = QuestionForm(request.POST or None)
    preview = ""
    if request.method == "POST" and form.is_valid():
        if _wants_preview(request):
            preview = markdown.render(form.cleaned_data["body"])
        elif (sent := _sent_before(request, "question", form.token())) is not None:
            return sent
        else:
            try:
                question = question_create(
                    actor=request.user,
                    title=form.cleaned_data["title"],
                    body=form.cleaned_data["body"],
                    tags=form.tag_list(),
                    interview=form.interview_input(),
                    rate_limited=True,
                )
            except Exception as error:  # refused, rate limited, …: the form may be sent again
                form_token_release(user=request.user, kind="question", token=form.token())
                if not isinstance(error, ValidationError):
                    raise
                add_service_errors(form, error)
            else:
                form_token_done(
                    user=request.user, kind="question", token=form.token(), post_id=question.pk
                )
                messages.success(request, _("Your question is posted."))
                return redirect(question_url(question))
    return render(request, "kb/ask.html", {"form": form, "preview": preview})


def _sent_before(request: HttpRequest, kind: str, token: str) -> HttpResponse | None:
    """The same form sent again (its one-time token is used): nothing new is made; the member
    lands on the post the first submission made (kb.form_tokens)."""
    made = form_token_claim(user=request.user, kind=kind, token=token)
    if made is None:
        return None
    messages.info(request, _("This form was already sent; here is what it posted."))
    try:
        if kind == "question":
            return redirect(question_url(question_get(viewer=request.user, pk=made)))
        answer = answer_get(viewer=request.user, pk=made)
        return redirect(f"{question_url(answer.question)}#answer-{answer.pk}")
    except (Question.DoesNotExist, Answer.DoesNotExist):  # still being made, or gone since
        return redirect(reverse("kb:home"))


@member_required
@require_POST
def answer_add(request: HttpRequest, pk: int) -> HttpResponse:
    question = question_or_404(request, pk)
    form = AnswerForm(request.POST)
    form.is_valid()
    if _wants_preview(request):
        preview = markdown.render(form.cleaned_data["body"])
        return question_page(request, question, answer_form=form, answer_preview=preview)
    sent = _sent_before(request, "answer", form.token())
    if sent is not None:
        return sent
    try:
        answer = answer_create(
            actor=request.user,
            question=question,
            body=form.cleaned_data["body"],
            rate_limited=True,
        )
    except Exception as error:  # refused, rate limited, …: the form may be sent again
        form_token_release(user=request.user, kind="answer", token=form.token())
        if not isinstance(error, ValidationError):
            raise
        add_service_errors(form, error)
        return question_page(request, question, answer_form=form)
    form_token_done(user=request.user, kind="answer", token=form.token(), post_id=answer.pk)
    messages.success(request, _("Your answer is posted."))
    return redirect(f"{question_url(question)}#answer-{answer.pk}")


# ---------- Edit ----------


def _edit_initial(post: Question | Answer) -> dict:
    initial = {"body": post.body, "base_revision": post.revision_count}
    if isinstance(post, Question):
        initial["title"] = post.title
        initial["tags"] = " ".join(post.tag_names)
        initial.update(interview_initial(Interview.of(post)))
    return initial


def _edit_page(request, post, form, *, preview="", conflict=None, status=200) -> HttpResponse:
    is_question = isinstance(post, Question)
    direct = can_edit_directly(request.user, post)
    pending_waiting = (
        not direct
        and revision_list(viewer=request.user, post=post)
        .filter(status=Revision.Status.PENDING)
        .exists()
    )
    return render(
        request,
        "kb/post_edit.html",
        {
            "post": post,
            "question": post if is_question else post.question,
            "is_question": is_question,
            "form": form,
            "preview": preview,
            "conflict": conflict,
            "edits_directly": direct,
            "pending_waiting": pending_waiting,
            "post_url": _post_url(post),
            "history_url": reverse(
                "kb:question_history" if is_question else "kb:answer_history",
                kwargs={"pk": post.pk},
            ),
        },
        status=status,
    )


def _conflict_context(conflict: EditConflict, *, is_question: bool) -> dict:
    current, yours = conflict.current, conflict.yours
    return {
        "current": current,
        "current_html": markdown.render(current.body),
        "yours_html": markdown.render(yours.body),
        "yours_title": yours.title,
        "body_inline": inline_diff_html(current.body, yours.body),
        "body_rows": side_by_side_rows(current.body, yours.body, context=3),
        "title_inline": inline_diff_html(current.title, yours.title) if is_question else "",
        "tags": tags_diff(list(current.tags), list(yours.tags)) if is_question else None,
        "merged_body": conflict.merged.body,
        "interview": interview_diff_of(current, conflict.yours.interview) if is_question else [],
        "fields": conflict.conflicts,
    }


def _edit(request: HttpRequest, post: Question | Answer) -> HttpResponse:
    refuse(edit_refusal(request.user, post))
    is_question = isinstance(post, Question)
    if request.method != "POST":
        form = EditForm(initial=_edit_initial(post), is_question=is_question)
        return _edit_page(request, post, form)
    form = EditForm(request.POST, is_question=is_question)
    if not form.is_valid():
        # Only a missing or garbled base_revision gets here. Start again from the current
        # revision, and say so: the text is kept and saving again will work.
        data = request.POST.copy()
        data["base_revision"] = str(post.revision_count)
        form = EditForm(data, is_question=is_question)
        form.is_valid()
        form.add_error(
            None,
            _("The form lost track of the revision you started from. Compare your text with the "
              "current version, then save again."),
        )  # fmt: skip
        return _edit_page(request, post, form)
    data = form.cleaned_data
    if _wants_preview(request):
        return _edit_page(request, post, form, preview=markdown.render(data["body"]))
    try:
        result = post_edit(
            actor=request.user,
            post=post,
            base_revision=data["base_revision"],
            body=data["body"],
            title=data.get("title") if is_question else None,
            tags=form.tag_list(),
            interview=form.interview_input() if is_question else None,
            summary=data["summary"],
        )
    except EditConflict as conflict:
        yours = conflict.yours
        initial = {
            "body": yours.body,
            "summary": data["summary"],
            "base_revision": conflict.current.number,
        }
        if is_question:
            initial.update(title=yours.title, tags=" ".join(yours.tags))
            initial.update(interview_initial(yours.interview))
        form = EditForm(initial=initial, is_question=is_question)
        context = _conflict_context(conflict, is_question=is_question)
        return _edit_page(request, post, form, conflict=context, status=409)
    except ValidationError as error:
        add_service_errors(form, error)
        return _edit_page(request, post, form)
    number = result.revision.number
    if result.pending:
        messages.info(
            request,
            _("Thank you! Your edit (revision %(n)d) is waiting for review; the post changes "
              "once it is approved.") % {"n": number},
        )  # fmt: skip
    elif result.merged:
        messages.success(
            request,
            _("Someone else edited this post while you were editing; your changes did not "
              "overlap, so both are kept (revision %(n)d).") % {"n": number},
        )  # fmt: skip
    else:
        messages.success(request, _("Your edit is saved (revision %(n)d).") % {"n": number})
    return redirect(_post_url(post))


@member_required
@require_http_methods(["GET", "HEAD", "POST"])
def question_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit(request, question_or_404(request, pk))


@member_required
@require_http_methods(["GET", "HEAD", "POST"])
def answer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit(request, answer_or_404(request, pk))


# ---------- Diff and rollback ----------

DIFF_VIEWS = ("inline", "side")


def _diff(request: HttpRequest, post: Question | Answer, question: Question) -> HttpResponse:
    is_question = isinstance(post, Question)
    revisions = revision_list(viewer=request.user, post=post)
    numbers = list(revisions.values_list("number", flat=True))
    if not numbers:
        raise Http404
    error = ""
    raw = {name: request.GET.get(name, "") for name in ("from", "to")}
    wanted: dict[str, int] = {}
    for name, value in raw.items():
        if value.strip().isdigit():
            wanted[name] = int(value)
        elif value:
            error = _("Choose two revisions to compare.")
    to_number = wanted.get("to", post.revision_count or numbers[-1])
    from_number = wanted.get("from", max(1, to_number - 1))
    found = {r.number: r for r in revisions.filter(number__in={from_number, to_number})}
    if (from_number not in found or to_number not in found) and not error:
        raise Http404(_("Unknown revision."))
    view = request.GET.get("view", "inline")
    view = view if view in DIFF_VIEWS else "inline"
    context = {
        "post": post,
        "question": question,
        "is_question": is_question,
        "numbers": numbers,
        "view": view,
        "error": error,
        "from_number": from_number,
        "to_number": to_number,
        "post_url": _post_url(post),
        "history_url": reverse(
            "kb:question_history" if is_question else "kb:answer_history", kwargs={"pk": post.pk}
        ),
    }
    if not error:
        old, new = found[from_number], found[to_number]
        context.update(
            old=old,
            new=new,
            title_inline=inline_diff_html(old.title, new.title) if is_question else "",
            tags=tags_diff(list(old.tags), list(new.tags)),
            body_inline=inline_diff_html(old.body, new.body) if view != "side" else "",
            body_rows=side_by_side_rows(old.body, new.body, context=3) if view == "side" else [],
            interview=interview_diff(old, new) if is_question else [],
        )
    return render(request, "kb/revision_diff.html", context, status=400 if error else 200)


@require_safe
def question_diff(request: HttpRequest, pk: int) -> HttpResponse:
    question = question_or_404(request, pk)
    return _diff(request, question, question)


@require_safe
def answer_diff(request: HttpRequest, pk: int) -> HttpResponse:
    answer = answer_or_404(request, pk)
    return _diff(request, answer, answer.question)


def _rollback(request: HttpRequest, post: Question | Answer) -> HttpResponse:
    history = reverse(
        "kb:question_history" if isinstance(post, Question) else "kb:answer_history",
        kwargs={"pk": post.pk},
    )
    form = RollbackForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a revision to roll back to."))
        return redirect(history)
    try:
        revision = revision_rollback(
            actor=request.user,
            post=post,
            to=form.cleaned_data["to"],
            summary=form.cleaned_data["summary"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(history)
    messages.success(
        request,
        _("Rolled back: revision %(new)d restores revision %(old)d.")
        % {"new": revision.number, "old": form.cleaned_data["to"]},
    )
    return redirect(f"{history}#revision-{revision.number}")


@member_required
@require_POST
def question_rollback(request: HttpRequest, pk: int) -> HttpResponse:
    return _rollback(request, question_or_404(request, pk))


@member_required
@require_POST
def answer_rollback(request: HttpRequest, pk: int) -> HttpResponse:
    return _rollback(request, answer_or_404(request, pk))


# ---------- Comments ----------


def _comment_add(request: HttpRequest, post: Question | Answer, question: Question):
    if isinstance(post, Answer):
        post.question = question
    key = f"{'question' if isinstance(post, Question) else 'answer'}-{post.pk}"
    form = CommentForm(request.POST, auto_id=f"id_{key}_%s")
    form.is_valid()
    try:
        comment = comment_create(actor=request.user, post=post, body=form.cleaned_data["body"])
    except ValidationError as error:
        add_service_errors(form, error)
        if isinstance(post, Answer):  # answer.question lacks what the page shows (tag names)
            question = question_get(viewer=request.user, pk=question.pk)
        return question_page(request, question, failed_comment=(post, form))
    return redirect(f"{question_url(question)}#comment-{comment.pk}")


@member_required
@require_POST
def question_comment_add(request: HttpRequest, pk: int) -> HttpResponse:
    question = question_or_404(request, pk)
    return _comment_add(request, question, question)


@member_required
@require_POST
def answer_comment_add(request: HttpRequest, pk: int) -> HttpResponse:
    answer = answer_or_404(request, pk)
    return _comment_add(request, answer, answer.question)


@member_required
@require_http_methods(["GET", "HEAD", "POST"])
def comment_edit_view(request: HttpRequest, comment_id: int) -> HttpResponse:
    comment, question = comment_or_404(request, comment_id)
    if not comment_is_editable(actor=request.user, comment=comment):
        raise PermissionDenied(_("This comment can no longer be edited."))
    form = CommentForm(request.POST or None, initial={"body": comment.body})
    if request.method == "POST" and form.is_valid():
        try:
            comment = comment_edit(actor=request.user, comment=comment,
                                   body=form.cleaned_data["body"])  # fmt: skip
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your comment is saved."))
            return redirect(f"{question_url(question)}#comment-{comment.pk}")
    return render(
        request, "kb/comment_edit.html", {"form": form, "comment": comment, "question": question}
    )


@member_required
@require_POST
def comment_delete_view(request: HttpRequest, comment_id: int) -> HttpResponse:
    comment, question = comment_or_404(request, comment_id)
    try:
        comment_delete(actor=request.user, comment=comment)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The comment is deleted."))
    return redirect(question_url(question))


# ---------- Helpers for the scripts (and anyone) ----------


@require_POST
def markdown_preview(request: HttpRequest) -> JsonResponse:
    """The HTML a post body will have, from the same renderer; and what the checks would say."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": _("Log in to preview.")}, status=403)
    body = request.POST.get("body", "")
    if len(body) > rule("BODY_MAX_LENGTH") + 1000:
        return JsonResponse({"error": _("The text is too long to preview.")}, status=400)
    problems: list[str] = []
    if body.strip():
        try:
            validate_body(body)
        except ValidationError as error:
            problems = error.messages
    return JsonResponse({"html": markdown.render(body), "problems": problems})


@require_safe
def tag_autocomplete(request: HttpRequest) -> JsonResponse:
    """`?q=` → tags whose name or alias contains q: {"results": [{name, count, alias}]}."""
    names = tag_names(request.GET.get("q", ""))
    results = tag_suggestions(text=names[-1] if names else "", limit=10)
    response = JsonResponse({"results": results})
    response["Cache-Control"] = "max-age=60"
    return response
