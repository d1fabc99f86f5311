"""Search quality on the starter content: the labelled queries in search_queries.toml.

recall@3: the share of queries with a right question among the first three results.
MRR: the mean of 1/rank of the first right question (0 when none is returned).
"""

import tomllib
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser

from kb.models import Question
from kb.selectors.search import search
from kb.services.starter import starter_load
from kb.starter import starter_questions

QUERIES = tomllib.loads(
    (Path(__file__).with_name("search_queries.toml")).read_text(encoding="utf-8")
)["query"]
KINDS = {"zh", "en", "mixed", "typo", "traditional", "fullwidth"}


def test_the_labelled_set_is_big_varied_and_points_at_real_starter_questions():
    stems = {question.path.stem for question in starter_questions()}
    assert len(QUERIES) >= 40
    assert {item["kind"] for item in QUERIES} == KINDS
    for item in QUERIES:
        assert item["expect"] and set(item["expect"]) <= stems, item["q"]


@pytest.mark.django_db
def test_recall_at_3_and_mrr_on_the_starter_content():
    starter_load()
    stem_of_title = {question.title: question.path.stem for question in starter_questions()}
    stem_of_id = {
        pk: stem_of_title[title] for pk, title in Question.objects.values_list("pk", "title")
    }
    found_in_top_3, reciprocal_ranks, misses = 0, [], []
    for item in QUERIES:
        results = search(viewer=AnonymousUser(), query=item["q"], page_size=10)
        ranked = [stem_of_id[hit.question_id] for hit in results.hits]
        rank = next((n for n, stem in enumerate(ranked, 1) if stem in item["expect"]), None)
        found_in_top_3 += rank is not None and rank <= 3
        reciprocal_ranks.append(1 / rank if rank else 0.0)
        if rank != 1:
            misses.append(f"{item['kind']}: {item['q']!r} -> rank {rank}, got {ranked[:3]}")
    recall_at_3 = found_in_top_3 / len(QUERIES)
    mrr = sum(reciprocal_ranks) / len(QUERIES)
    report = f"recall@3={recall_at_3:.3f} MRR={mrr:.3f}\n" + "\n".join(misses)
    assert recall_at_3 >= 0.9, report
    assert mrr >= 0.8, report
