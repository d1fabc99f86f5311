from django.core.management.base import BaseCommand

from kb.models import Question
from kb.services.starter import starter_load


class Command(BaseCommand):
    help = (
        "Load the starter tags and questions (idempotent); --if-empty: only into an empty site; "
        "--update: also apply changed starter files to posts nobody has edited since they were "
        "loaded, and list the ones the community edited."
    )

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true")
        parser.add_argument("--update", action="store_true")

    def handle(self, *args, if_empty: bool = False, update: bool = False, **options):
        if if_empty and Question.objects.exists():
            self.stdout.write("The database has questions already; starter content not loaded.")
            return
        report = starter_load(update=update)
        if not update:
            self.stdout.write(
                f"Starter content: {len(report.created)} questions created, "
                f"{len(report.skipped)} already there."
            )
            return
        self.stdout.write(
            f"Starter content: {len(report.tags_added)} tags added, {len(report.created)} "
            f"questions created, {len(report.updated)} posts updated, {len(report.unchanged)} "
            f"unchanged, {len(report.kept)} edited by the community and left alone."
        )
        for label in report.updated:
            self.stdout.write(f"  updated: {label}")
        for label in report.kept:
            self.stdout.write(f"  kept (edited since loaded): {label}")
