"""What a 304 saves: median time and query count of a full answer and of a conditional one
(If-None-Match with the ETag just served), in process through Django's test client, for the API
question detail and the anonymous question page. `make bench` measures the same over HTTP with
wrk (targets api-detail-304 and question-304); this needs no wrk and no bench database.

    API_THROTTLE_ANON=100000/min .venv/bin/python -m bench.conditional [--questions 30]
"""

import argparse
import os
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.conditional")
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from kb.models import Question

    client = Client()
    ids = list(Question.objects.order_by("pk").values_list("pk", flat=True)[: options.questions])

    def measure(path_of, conditional: bool) -> tuple[float, int]:
        etags = {pk: client.get(path_of(pk))["ETag"] for pk in ids}
        times, queries = [], []
        for _ in range(options.rounds):
            for pk in ids:
                headers = {"HTTP_IF_NONE_MATCH": etags[pk]} if conditional else {}
                with CaptureQueriesContext(connection) as captured:
                    start = time.perf_counter()
                    response = client.get(path_of(pk), **headers)
                    times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == (304 if conditional else 200), response.status_code
                queries.append(len(captured))
        return statistics.median(times), max(queries)

    targets = (
        ("API question detail", lambda pk: f"/api/v1/questions/{pk}/"),
        ("Question page, anonymous", lambda pk: f"/questions/{pk}/"),
    )
    for name, path_of in targets:
        full, full_queries = measure(path_of, conditional=False)
        cached, cached_queries = measure(path_of, conditional=True)
        print(f"{name}: 200 median {full:.1f} ms ({full_queries} queries); "
              f"304 median {cached:.2f} ms ({cached_queries} query)")  # fmt: skip


if __name__ == "__main__":
    main()
