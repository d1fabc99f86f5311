"""sitemap.xml at 100,000 questions: `python -m bench.sitemap [--questions N]`.

Inserts N questions into the database DATABASE_URL names inside a transaction, times the sitemap
index and section pages through Django's test client with their query counts, then rolls the
transaction back: the database is left as it was.
"""

import argparse
import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class _Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=100_000)
    options = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from kb.models import Question
    from kb.sitemaps import URLS_PER_PAGE

    try:
        with transaction.atomic():
            author = User.objects.order_by("pk").first() or User.objects.create(username="bench")
            started = time.perf_counter()
            Question.objects.bulk_create(
                [
                    Question(
                        title=f"测试问题 {n}:注意力机制与 KV Cache",
                        body="正文",
                        body_html="<p>正文</p>",
                        author=author,
                    )
                    for n in range(options.questions)
                ],
                batch_size=5000,
            )
            total = Question.objects.count()
            print(
                f"{options.questions:,} questions inserted in {time.perf_counter() - started:.0f} s"
            )
            last = -(-2 * total // URLS_PER_PAGE)
            client = Client()
            for path in (
                "/sitemap.xml",
                "/sitemap-questions.xml",
                f"/sitemap-questions.xml?p={max(1, last // 2)}",
                f"/sitemap-questions.xml?p={last}",
                "/sitemap-tags.xml",
            ):
                client.get(path)  # warm: the first request of a process compiles templates
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    response = client.get(path)
                    elapsed = time.perf_counter() - started
                print(
                    f"{path}: {response.status_code}, {len(response.content) / 1e6:.2f} MB, "
                    f"{response.content.count(b'<url>'):,} URLs, {len(queries)} queries, "
                    f"{elapsed * 1000:.0f} ms"
                )
            raise _Rollback
    except _Rollback:
        print("rolled back")


if __name__ == "__main__":
    main()
