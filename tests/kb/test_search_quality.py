"""Search quality on the starter content: the graded queries in search_queries.toml.

A question's grade for a query is the highest grade of the topics whose pattern matches its title
(2 = the question about it, 1 = a useful related one, 0 = not); grades name topics, not questions,
so questions added to the starter content are graded too. Over the queries that some question
answers (best grade > 0):

- nDCG@5: discounted cumulative gain of the first five results, (2^grade - 1) / log2(rank + 1),
  divided by that of the best possible order of every starter question;
- MRR: the mean of 1 / rank of the first result with the best grade any question has;
- top-1: the share of queries whose first result has that best grade.

Queries of kind "none" have no good answer: none of their results may match every term.
"""

import math
import re
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser

from kb.models import Question
from kb.selectors.search import search
from kb.services.starter import starter_load

LABELLED = tomllib.loads((Path(__file__).with_name("search_queries.toml")).read_text("utf-8"))
TOPICS = {name: re.compile(pattern, re.I) for name, pattern in LABELLED["topics"].items()}
QUERIES = LABELLED["query"]
KINDS = {"substring", "multi", "zh", "mixed", "en", "traditional", "fullwidth", "typo", "none"}
FLOORS = {"top1": 0.9, "ndcg5": 0.9, "mrr": 0.9}


def test_the_labelled_set_is_big_varied_and_graded_by_topic():
    assert len(QUERIES) >= 150
    kinds = Counter(item["kind"] for item in QUERIES)
    assert set(kinds) == KINDS and min(kinds.values()) >= 10, kinds
    for item in QUERIES:
        grades = item.get("grades", {})
        assert (item["kind"] == "none") == (not grades), item["q"]
        assert set(grades) <= set(TOPICS) and set(grades.values()) <= {1, 2}, item["q"]
        assert 2 in grades.values() or not grades, item["q"]


def grade_of(title: str, grades: dict[str, int]) -> int:
    return max((grade for topic, grade in grades.items() if TOPICS[topic].search(title)), default=0)


def dcg(grades: list[int]) -> float:
    return sum((2**grade - 1) / math.log2(rank + 1) for rank, grade in enumerate(grades, 1))


def measure(queries: list[dict]) -> dict:
    """Run every query as an anonymous reader; nDCG@5, MRR, top-1 overall and by kind."""
    titles = dict(Question.objects.values_list("pk", "title"))
    scores: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    misses, none_with_complete, unanswerable = [], [], []
    for item in queries:
        results = search(viewer=AnonymousUser(), query=item["q"], page_size=10)
        if item["kind"] == "none":
            complete = [hit.title for hit in results.hits if hit.matches_all_terms]
            if complete:
                none_with_complete.append(f"{item['q']!r}: {complete[:3]}")
            continue
        grades = item["grades"]
        corpus = sorted((grade_of(title, grades) for title in titles.values()), reverse=True)
        best = corpus[0]
        if best == 0:
            unanswerable.append(item["q"])  # its topic has no question yet
            continue
        ranked = list(dict.fromkeys(hit.question_id for hit in results.hits))
        got = [grade_of(titles[pk], grades) for pk in ranked]
        ndcg = dcg(got[:5]) / dcg(corpus[:5])
        rank = next((n for n, grade in enumerate(got, 1) if grade == best), None)
        top1 = float(bool(got) and got[0] == best)
        for key in ("all", item["kind"]):
            scores[key].append((ndcg, 1 / rank if rank else 0.0, top1))
        if not top1:
            misses.append(f"{item['kind']}: {item['q']!r} -> grades {got[:5]}, "
                          f"first {titles[ranked[0]] if ranked else None!r}")  # fmt: skip
    summary = {
        kind: {
            "queries": len(rows),
            "ndcg5": sum(row[0] for row in rows) / len(rows),
            "mrr": sum(row[1] for row in rows) / len(rows),
            "top1": sum(row[2] for row in rows) / len(rows),
        }
        for kind, rows in scores.items()
    }
    return {"summary": summary, "misses": misses, "none_with_complete": none_with_complete,
            "unanswerable": unanswerable}  # fmt: skip


def report(measured: dict) -> str:
    lines = [
        f"{kind:12} n={row['queries']:3} nDCG@5={row['ndcg5']:.3f} MRR={row['mrr']:.3f} "
        f"top-1={row['top1']:.3f}"
        for kind, row in sorted(measured["summary"].items())
    ]
    lines += ["misses:", *measured["misses"], "no-answer queries with complete matches:",
              *measured["none_with_complete"],
              f"unanswerable: {measured['unanswerable']}"]  # fmt: skip
    return "\n".join(lines)


@pytest.mark.django_db
def test_ndcg_mrr_and_top1_on_the_starter_content():
    starter_load()
    measured = measure(QUERIES)
    text = report(measured)
    print(text)  # shown with -s: the numbers in docs/search.md come from here
    overall = measured["summary"]["all"]
    assert overall["queries"] >= 120, text
    for metric, floor in FLOORS.items():
        assert overall[metric] >= floor, f"{metric} below {floor}\n{text}"
    assert not measured["none_with_complete"], text
