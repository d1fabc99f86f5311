import time

from django.core.management.base import BaseCommand
from django.db import connection

from kb.models import AnswerSearch, QuestionSearch
from kb.search import SEARCH_VERSION
from kb.services.search_index import REINDEX_BATCH_SIZE, search_reindex

ANALYZE_AFTER = 1000  # documents written


class Command(BaseCommand):
    help = (
        "Segment questions and answers whose search document is missing or was made by another "
        "version of the segmenter, dictionary or stop list (--all: every post, and rebuild the "
        "lexicon of English words)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="re-segment every post")
        parser.add_argument("--batch-size", type=int, default=REINDEX_BATCH_SIZE)
        parser.add_argument(
            "--processes", type=int, default=1, help="processes that segment (default: 1)"
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        verbose = options["verbosity"] > 1

        def progress(done: int, total: int) -> None:
            if verbose:
                self.stdout.write(f"  {done}/{total} questions")

        written = search_reindex(
            everything=options["all"],
            batch_size=max(1, options["batch_size"]),
            processes=max(1, options["processes"]),
            progress=progress,
        )
        if written >= ANALYZE_AFTER:  # fresh statistics, or the planner misjudges every query
            with connection.cursor() as cursor:
                cursor.execute(
                    f"ANALYZE {QuestionSearch._meta.db_table}, {AnswerSearch._meta.db_table}"
                )
        self.stdout.write(
            f"Search index: {written} documents written in {time.monotonic() - started:.1f}s "
            f"(search_version {SEARCH_VERSION})."
        )
