"""The import page: upload or paste an article, see the plan, adjust it, import it; an import's
page with its undo button; verifying an imported answer. Plain form round trips (static/kb/
import.js only helps); every write calls the service the API calls."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from kb import permissions
from kb.article_import import ArticleError
from kb.forms_imports import ImportSourceForm, ImportUploadForm, plan_from_post
from kb.models import Answer
from kb.selectors.imports import (
    import_list,
    import_plan_read,
    plan_match,
    plan_merge,
    plan_split,
)
from kb.services.imports import answer_verify, import_run, import_undo
from kb.templatetags.kb_pages import question_url
from kb.views.access import answer_or_404, import_or_404


def _check_may_import(request: HttpRequest) -> None:
    if not permissions.can_import(request.user):
        raise PermissionDenied(
            _("Importing articles needs the import privilege (moderators and established members).")
        )


def _render(request, *, form, plan=None, source=None, errors=(), status=200) -> HttpResponse:
    return render(
        request,
        "kb/import.html",
        {
            "form": form,
            "plan": plan,
            "source": source,
            "plan_errors": list(errors),
            "recent": list(import_list(viewer=request.user)[:5]),
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    _check_may_import(request)
    if request.method != "POST":
        return _render(request, form=ImportUploadForm())
    if "entry_count" in request.POST:
        return _plan_posted(request)
    form = ImportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render(request, form=form, status=400)
    data, name = form.article()
    try:
        plan = import_plan_read(viewer=request.user, data=data, source_name=name)
    except ArticleError as error:
        form.add_error(None, str(error))
        return _render(request, form=form, status=400)
    source = ImportSourceForm(
        initial={
            "source_url": form.cleaned_data.get("source_url", ""),
            "license": form.cleaned_data.get("license") or plan.license,
        }
    )
    return _render(request, form=None, plan=plan, source=source)


def _plan_posted(request: HttpRequest) -> HttpResponse:
    """The adjusted plan: "update" applies merges, splits and renames and shows it again;
    "import" carries it out."""
    plan, errors = plan_from_post(request.POST)
    source = ImportSourceForm(request.POST)
    merge = request.POST.get("merge", "")
    if merge.isdigit() and int(merge) + 1 < len(plan.entries):
        plan_merge(plan.entries, int(merge))
    for index in reversed(range(len(plan.entries))):
        line = request.POST.get(f"entry-{index}-split", "")
        if line.strip() and not plan_split(plan.entries, index, line):
            errors.append(
                _("《%(title)s》: no answer line reads “%(line)s”.")
                % {"title": plan.entries[index].title, "line": line.strip()}
            )
    plan_match(viewer=request.user, entries=plan.entries, keep_actions=True)
    wants_import = "import" in request.POST and not merge and not errors
    if not source.is_valid() or not wants_import:
        return _render(
            request, form=None, plan=plan, source=source, errors=errors,
            status=400 if errors or source.errors else 200,
        )  # fmt: skip
    try:
        result = import_run(
            actor=request.user,
            plan=plan,
            source_url=source.cleaned_data["source_url"],
            license=source.cleaned_data["license"],
            source_title=request.POST.get("source_title", ""),
        )
    except ValidationError as error:
        return _render(
            request, form=None, plan=plan, source=source, errors=error.messages, status=400
        )
    if result.article_import is None:
        messages.info(request, _("Nothing to import: every question was skipped."))
        return redirect("kb:import")
    messages.success(
        request,
        _("Imported: %(new)d new questions, %(added)d answers added to existing questions.")
        % {"new": len(result.created), "added": len(result.added)},
    )
    return redirect("kb:import_detail", pk=result.article_import.pk)


@require_safe
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    article_import = import_or_404(request, pk)
    answers = list(
        Answer.objects.filter(pk__in=article_import.answer_ids)
        .select_related("question")
        .only("pk", "is_deleted", "verification", "question__id", "question__title")
        .order_by("pk")
    )
    return render(
        request,
        "kb/import_detail.html",
        {
            "article_import": article_import,
            "answers": answers,
            "created": set(article_import.question_ids),
            "can_undo": permissions.can_undo_import(request.user, article_import),
        },
    )


@require_POST
def import_undo_view(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("kb:import_detail", kwargs={"pk": pk}))
    article_import = import_or_404(request, pk)
    try:
        import_undo(actor=request.user, article_import=article_import)
    except PermissionDenied as error:
        messages.error(request, str(error))
        return redirect("kb:import_detail", pk=pk)
    messages.success(request, _("The import is undone: what it created is deleted."))
    return redirect("kb:import_detail", pk=pk)


@require_POST
def answer_verify_view(request: HttpRequest, pk: int) -> HttpResponse:
    answer = answer_or_404(request, pk)
    back = f"{question_url(answer.question)}#answer-{answer.pk}"
    if not request.user.is_authenticated:
        return redirect_to_login(back)
    try:
        answer_verify(actor=request.user, answer=answer)
    except PermissionDenied as error:
        messages.error(request, str(error))
        return redirect(back)
    messages.success(request, _("The answer is marked verified."))
    return redirect(back)
