"""Writes for article imports: run a plan, undo a whole import, verify an imported answer.

An import runs in one transaction: every new question and answer goes through question_create
and answer_create (so each has its revision 1 and its search document), the answers are then
marked unverified with their provenance (the ArticleImport row), and one audit-log row records
it. Any refusal rolls everything back: never a half import. Undoing soft-deletes what the import
created through post_remove, the moderators' delete, each logged.
"""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kb import permissions
from kb.models import Answer, ArticleImport, Question
from kb.selectors.imports import ACTION_ADD, ACTION_NEW, ImportPlan
from kb.services import locking
from kb.services.answers import answer_create
from kb.services.audit_log import moderation_log
from kb.services.moderation import post_remove
from kb.services.questions import question_create
from kb.services.validation import clean_text

LICENSE_MAX_LENGTH = 300


@dataclass
class ImportResult:
    article_import: ArticleImport | None
    created: list[Question] = field(default_factory=list)
    added: list[Answer] = field(default_factory=list)  # answers added to existing questions
    skipped: list[str] = field(default_factory=list)


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError as error:
            raise ValidationError({"source_url": _("Enter a valid http(s) URL.")}) from error
    return url


def _entry_error(title: str, error: ValidationError | PermissionDenied) -> ValidationError:
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        text = "; ".join(" ".join(messages) for messages in error.message_dict.values())
    elif isinstance(error, ValidationError):
        text = " ".join(error.messages)
    else:
        text = str(error)
    return ValidationError(
        {"entries": _("《%(title)s》: %(error)s") % {"title": title, "error": text}}
    )


@transaction.atomic
def import_run(
    *, actor, plan: ImportPlan, source_url: str = "", license: str = "", source_title: str = ""
) -> ImportResult:
    """Carry out a plan as `actor`: "new" entries become questions with one answer, "add"
    entries become answers to their target, "skip" entries nothing. Imported answers are
    unverified. Nothing is written when every entry is skipped."""
    if not permissions.can_import(actor):
        raise PermissionDenied(_("Importing articles needs the import privilege."))
    source_url = _clean_url(source_url)
    license = clean_text(license or "").strip()[:LICENSE_MAX_LENGTH]
    source_title = clean_text(source_title or "").strip()[:300] or plan.page_title[:300]
    result = ImportResult(article_import=None)
    todo = [entry for entry in plan.entries if entry.action in (ACTION_NEW, ACTION_ADD)]
    result.skipped = [entry.title for entry in plan.entries if entry not in todo]
    if not todo:
        return result
    article_import = ArticleImport.objects.create(
        actor=actor,
        source_title=source_title,
        source_url=source_url,
        license=license,
        source_name=plan.source_name[:200],
        encoding=plan.encoding,
        content_hash=plan.content_hash,
    )
    summary = _("Imported from 《%(title)s》") % {"title": source_title}
    for entry in todo:
        try:
            if entry.action == ACTION_NEW:
                question = question_create(
                    actor=actor,
                    title=entry.title,
                    body=entry.body or summary,
                    tags=list(entry.tags),
                    summary=summary[:300],
                )
                result.created.append(question)
            else:
                question = (
                    Question.objects.visible_to(actor)
                    .exclude(status=Question.Status.DELETED)
                    .filter(pk=entry.target_id)
                    .first()
                )
                if question is None:
                    raise ValidationError(
                        _("question #%(n)s does not exist.") % {"n": entry.target_id}
                    )
            answer = answer_create(
                actor=actor, question=question, body=entry.answer, summary=summary[:300]
            )
        except (ValidationError, PermissionDenied) as error:
            raise _entry_error(entry.title, error) from error
        if entry.action == ACTION_ADD:
            result.added.append(answer)
        answer.verification = Answer.Verification.UNVERIFIED
        answer.imported_from = article_import
        answer.save(update_fields=["verification", "imported_from"])
        article_import.answer_ids.append(answer.pk)
    article_import.question_ids = [question.pk for question in result.created]
    article_import.save(update_fields=["question_ids", "answer_ids"])
    result.article_import = article_import
    moderation_log(
        actor=actor,
        action="article_import",
        is_public=False,
        reason=source_title[:500],
        details={
            "import": article_import.pk,
            "questions": article_import.question_ids,
            "answers": article_import.answer_ids,
        },
    )
    return result


@transaction.atomic
def import_undo(*, actor, article_import: ArticleImport, reason: str = "") -> ArticleImport:
    """Undo a whole import: soft-delete every answer and question it created (as a delete by
    `actor`, logged like any other), once."""
    article_import = ArticleImport.objects.get(pk=article_import.pk)  # its ids never change
    answers = Answer.objects.filter(pk__in=article_import.answer_ids)
    question_ids = set(article_import.question_ids) | set(
        answers.values_list("question_id", flat=True)
    )
    # Lock order (kb.services.locking): the questions, their answers, then the import's row.
    questions = list(locking.questions_lock(question_ids=question_ids).values())
    locking.answers_lock(answer_ids=article_import.answer_ids)
    article_import = locking.import_locked_row(article_import)
    if not permissions.can_undo_import(actor, article_import):
        raise PermissionDenied(_("Only the member who imported this, or a moderator, can undo it."))
    reason = clean_text(reason or "").strip()[:500] or _("import undone")
    for answer in answers.order_by("pk"):
        if not answer.is_deleted:
            post_remove(actor=actor, post=answer, reason=reason, spam=False)
    for question in questions:
        if question.pk in article_import.question_ids and not question.is_deleted:
            post_remove(actor=actor, post=question, reason=reason, spam=False)
    article_import.undone_at = timezone.now()
    article_import.undone_by = actor
    article_import.save(update_fields=["undone_at", "undone_by"])
    moderation_log(
        actor=actor,
        action="article_import_undo",
        is_public=False,
        reason=reason,
        details={"import": article_import.pk},
    )
    return article_import


@transaction.atomic
def answer_verify(*, actor, answer: Answer) -> Answer:
    """A reviewer marks an imported answer verified."""
    answer = locking.post_locked_row(answer)
    if not permissions.can_verify(actor, answer):
        raise PermissionDenied(_("You cannot verify this answer."))
    answer_mark_verified(actor=actor, answer=answer)
    moderation_log(actor=actor, action="answer_verify", target=answer)
    return answer


def answer_mark_verified(*, actor, answer) -> None:
    """Mark a locked unverified answer verified by `actor` (an approved edit does this too)."""
    if not isinstance(answer, Answer) or answer.verification != Answer.Verification.UNVERIFIED:
        return
    answer.verification = Answer.Verification.VERIFIED
    answer.verified_by = actor
    answer.verified_at = timezone.now()
    answer.save(update_fields=["verification", "verified_by", "verified_at"])
