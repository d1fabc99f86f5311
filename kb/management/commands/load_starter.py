from django.core.management.base import BaseCommand

from kb.models import Question
from kb.services.starter import starter_load


class Command(BaseCommand):
    help = "Load the starter tags and questions (idempotent); --if-empty: only into an empty site."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true")

    def handle(self, *args, if_empty: bool = False, **options):
        if if_empty and Question.objects.exists():
            self.stdout.write("The database has questions already; starter content not loaded.")
            return
        created, skipped = starter_load()
        self.stdout.write(
            f"Starter content: {len(created)} questions created, {len(skipped)} already there."
        )
