from django.core.management.base import BaseCommand

from kb import markdown
from kb.models import Answer, Comment, Question


class Command(BaseCommand):
    help = "Re-render stored HTML made by an older renderer version (--all: every row)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="re-render every row")

    def handle(self, *args, all: bool = False, **options):  # noqa: A002
        for model, render in ((Question, markdown.render), (Answer, markdown.render),
                              (Comment, markdown.render_comment)):  # fmt: skip
            rows = (
                model.objects.all()
                if all
                else model.objects.exclude(renderer_version=markdown.RENDERER_VERSION)
            )
            count = 0
            for row in rows.only("pk", "body").iterator(chunk_size=500):
                model.objects.filter(pk=row.pk).update(
                    body_html=render(row.body), renderer_version=markdown.RENDERER_VERSION
                )
                count += 1
            self.stdout.write(f"{model.__name__}: {count} re-rendered")
