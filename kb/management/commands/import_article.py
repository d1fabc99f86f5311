from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from kb.article_import import (
    ArticleError,
    article_decode_detected,
    article_parse,
    article_plan_write,
    tag_vocabulary_get,
)
from kb.models import Question
from kb.services.starter import system_user_get_or_create

BAD_INPUT = 2


class Command(BaseCommand):
    help = (
        "Import an interview-notes article (text, Markdown or HTML; GBK/GB18030 is detected) "
        "as questions with one answer each. Questions whose title exists already are skipped. "
        "Exit code 2 on a bad file."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the article: .txt, .md or .html")
        parser.add_argument(
            "--dry-run", action="store_true", help="print the plan and write nothing"
        )
        parser.add_argument(
            "--author", metavar="NAME", help="username to post as (default: the system account)"
        )

    def handle(self, *args, file: str, dry_run: bool = False, author: str | None = None, **opts):
        path = Path(file)
        actor = self.author_get(author)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(
                f"{path}: cannot read: {error.strerror}", returncode=BAD_INPUT
            ) from error
        try:
            text, encoding = article_decode_detected(data)
            plan = article_parse(text, source_name=path.name, vocabulary=tag_vocabulary_get())
        except ArticleError as error:
            raise CommandError(f"{path}: {error}", returncode=BAD_INPUT) from error
        if not plan.items:
            raise CommandError(
                f"{path}: no questions found (a question is a short line ending in “？” or a "
                "heading, followed by its answer)",
                returncode=BAD_INPUT,
            )
        if encoding != "utf-8":
            self.stderr.write(f"{path}: not UTF-8; decoded as {encoding.upper()}.")
        for title in plan.unanswered:
            self.stderr.write(f"No answer text, not imported: {title}")
        if dry_run:
            self.plan_print(plan)
            return
        try:
            with transaction.atomic():
                actor = actor or system_user_get_or_create()
                result = article_plan_write(actor=actor, plan=plan)
        except ArticleError as error:
            raise CommandError(
                f"{path}: nothing imported: {error}", returncode=BAD_INPUT
            ) from error
        self.stdout.write(
            f"Imported {len(result.created)} questions from 《{plan.page_title}》 as "
            f"{actor.username}; skipped {len(result.skipped)} whose title exists already."
        )
        for title in result.skipped:
            self.stdout.write(f"  skipped (exists): {title}")

    def author_get(self, name: str | None):
        """The --author user; None means the system account, created only when writing."""
        if name is None:
            return None
        user = get_user_model().objects.filter(username__iexact=name).first()
        if user is None:
            raise CommandError(f"Unknown author “{name}”.", returncode=BAD_INPUT)
        return user

    def plan_print(self, plan) -> None:
        self.stdout.write(f"《{plan.page_title}》: {len(plan.items)} questions")
        for number, item in enumerate(plan.items, 1):
            exists = Question.objects.filter(title__iexact=item.title).exists()
            self.stdout.write(
                f"{number:3}. {item.title}\n"
                f"     section: {item.section or '-'}; tags: {', '.join(item.tags)}; "
                f"answer: {len(item.answer)} chars"
                + ("; exists, would be skipped" if exists else "")
            )
        if plan.dropped_lines:
            self.stdout.write(f"Dropped {len(plan.dropped_lines)} junk lines.")
        self.stdout.write("Dry run: nothing written.")
