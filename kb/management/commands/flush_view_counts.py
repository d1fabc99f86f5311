from django.core.management.base import BaseCommand

from kb.services.views import question_views_flush


class Command(BaseCommand):
    help = "Write the question views buffered in the cache to the database (cron: every minute)."

    def handle(self, *args, **options):
        written = question_views_flush()
        self.stdout.write(f"{written} views written")
