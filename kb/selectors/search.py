"""Search reads: the ranked result list, duplicate suggestions for a new title.

How a query runs (docs/search.md has the measurements behind it):
1. parse the Stack Exchange syntax; look up tag names and aliases the query mentions (one query);
2. every free word required (AND); a word that names a tag also matches posts with that tag;
3. relevance only, while fewer than RELAX_BELOW results: correct misspelt English words against the
   lexicon; then let any word match (OR); then add fuzzy matches on question titles (pg_trgm).
Ranking is bounded: at most TITLE_CANDIDATES rows matching in the title or tags and RANK_CANDIDATES
rows matching anywhere are ranked: title and tag matches first, then ts_rank, score and recency.
Visibility comes from the models' visible_to(viewer).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.search import (
    SearchQuery,
    TrigramWordSimilarity,
)
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import escape_uri_path
from django.utils.safestring import SafeString

from kb import search as text
from kb.addresses import question_slug
from kb.models import Answer, AnswerSearch, Question, QuestionSearch, Tag, TagAlias
from kb.search import SEARCH_VERSION, ParsedQuery, QueryPlan
from kb.selectors.questions import tag_names

SORTS = ("relevance", "newest", "score")
PAGE_SIZE = 30
MAX_PAGE_SIZE = 100
MAX_RESULTS = 500  # results of one query sorted by newest or score
# Relevance ranks at most TITLE_CANDIDATES rows matching in the title or tags and RANK_CANDIDATES
# matching anywhere: the cost of common words is bounded. 60 + 120 instead of 100 + 200 made the
# bench's median 17% faster (ts_rank reads each candidate's vector); 180 results is six pages.
TITLE_CANDIDATES = 60
RANK_CANDIDATES = 120
RELAX_BELOW = 3  # fewer results than this: correct typos, then OR the words, then fuzzy titles
RANK_WEIGHTS = [0.1, 0.2, 0.4, 1.0]  # D answers, C body, B tags, A title
# ts_rank's normalization: 1 divides the rank by 1 + log(document length), so that one mention in
# a long post weighs less than the same mention in a short one (see _reranked_ids).
RANK_NORMALIZATION = int(os.environ.get("MJ_RANK_NORMALIZATION", "1"))
TITLE_SIMILARITY = 0.4  # pg_trgm word_similarity for the fuzzy title fallback
SIMILAR_LIMIT = 5
RELATED_CACHE_SECONDS = 3600  # related questions change slowly; see related_question_list
RELATED_SPARE = 3  # ranked beyond the limit, in case some are hidden from the viewer later
SUMMARY_FIELDS = ("pk", "title", "score", "answer_count", "accepted_answer_id", "status")
SUMMARY_COLUMNS = ("id", "title", "score", "answer_count", "accepted_answer_id", "status")
# What templates/kb/search_results.html shows of a question (or an answer's question) and author.
PAGE_FIELDS = (*SUMMARY_FIELDS, "created_at", "author__username", "author__display_name")
SIMILAR_WEIGHTS = [0.02, 0.05, 0.4, 1.0]  # a new title is compared with titles above all
CORRECTION_CANDIDATES = 8


class RawTsQuery(SearchQuery):
    """A tsquery literal made in kb/search.py, cast as is (no parser, no dictionary)."""

    def __init__(self, value: str):
        super().__init__(value)

    def as_sql(self, compiler, connection, function=None, template=None):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql})::tsquery", params


@dataclass
class SearchHit:
    """One result: a question, or an answer shown under its question's title."""

    type: str  # "question" or "answer"
    id: int
    question_id: int
    title: str
    title_html: SafeString
    snippet: SafeString
    score: int
    url: str  # the page
    api_url: str
    question: Question | None  # with its author, when details were asked (the page)
    answer: Answer | None = None
    tags: list[str] = field(default_factory=list)  # a question's tag names, when details were asked
    # False for a partial match (some words of the query are not in it; they are in
    # missing_terms) and for a question found only by a similar title.
    matches_all_terms: bool = True
    missing_terms: list[str] = field(default_factory=list)


@dataclass
class SearchResults:
    query: str
    parsed: ParsedQuery
    sort: str
    page: Page  # page.object_list holds the SearchHits
    corrections: dict[str, str] = field(default_factory=dict)
    relaxed: bool = False  # some words could not all be found together
    fuzzy: bool = False  # fuzzy title matches were added
    unknown_tags: list[str] = field(default_factory=list)
    # More posts match than the list holds (relevance ranks a bounded number of candidates; the
    # other orders stop at MAX_RESULTS): `count` is a lower bound.
    truncated: bool = False
    # Nothing matched at all: tags to try instead (names like the words, else the busiest).
    suggested_tags: list[str] = field(default_factory=list)
    complete_count: int = 0  # results with every term of the query (all of them unless relaxed)

    @property
    def hits(self) -> list[SearchHit]:
        return list(self.page.object_list)

    @property
    def complete_hits(self) -> list[SearchHit]:
        return [hit for hit in self.page.object_list if hit.matches_all_terms]

    @property
    def partial_hits(self) -> list[SearchHit]:
        return [hit for hit in self.page.object_list if not hit.matches_all_terms]

    @property
    def has_partial(self) -> bool:
        """Some results lack some of the query's words."""
        return (self.relaxed or self.fuzzy) and self.count > self.complete_count

    @property
    def partial_count(self) -> int:
        return self.count - self.complete_count

    @property
    def none_complete(self) -> bool:
        """No post has every term of the query (the partial matches are all there is)."""
        return (self.relaxed or self.fuzzy) and self.complete_count == 0

    @property
    def count(self) -> int:
        return self.page.paginator.count


def search(
    *,
    viewer,
    query: str,
    sort: str = "relevance",
    page: int | str | None = 1,
    page_size: int = PAGE_SIZE,
    strict_page: bool = True,
    details: bool = True,
) -> SearchResults:
    """Search questions (or answers with is:answer) that the viewer may see.

    `page` past the end raises django.core.paginator.InvalidPage when strict_page, else gives the
    last page (and a non-number the first). `details`: load the authors and tags the page
    shows (the API does not need them)."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {SORTS}")
    page_size = max(1, min(MAX_PAGE_SIZE, page_size))
    parsed = text.parse_query(query)
    run = _Run(viewer=viewer, parsed=parsed, sort=sort, details=details)
    ids = []
    if not parsed.is_empty:
        with _planned_for_vectors():
            ids = run.execute()
    paginator = Paginator(ids, page_size)
    current = paginator.page(page) if strict_page else paginator.get_page(page)
    current.object_list = run.hits(list(current.object_list))
    suggested = _suggested_tags(parsed) if not ids and parsed.has_text else []
    return SearchResults(
        suggested_tags=suggested,
        complete_count=len(run.complete_ids) if run.relaxed or run.fuzzy else len(ids),
        query=parsed.text,
        parsed=parsed,
        sort=sort,
        page=current,
        corrections=run.plan.corrections if run.plan else {},
        relaxed=run.relaxed,
        fuzzy=run.fuzzy,
        unknown_tags=run.unknown_tags,
        truncated=run.truncated,
    )


class _Run:
    """One search: the filters, the plan and the fallbacks, then the hits for one page."""

    def __init__(self, *, viewer, parsed: ParsedQuery, sort: str, details: bool = True):
        self.viewer = viewer
        self.details = details
        self.parsed = parsed
        self.sort = sort
        self.is_answer = parsed.kind == "answer"
        self.model = Answer if self.is_answer else Question
        self.plan: QueryPlan | None = None
        self.relaxed = False
        self.fuzzy = False
        self.unknown_tags: list[str] = []
        self.truncated = False
        self.complete_ids: set[int] = set()  # the results that match every term of the query

    # --- ids --------------------------------------------------------------------------------

    def execute(self) -> list[int]:
        parsed = self.parsed
        names = text.alias_candidates(parsed) | set(parsed.tags) | set(parsed.excluded_tags)
        # lower-case name or alias -> (tag id, tag name); tag name -> its aliases
        tags, tag_names = _tags_named(names)
        self.unknown_tags = [name for name in parsed.tags if name not in tags]
        if self.unknown_tags:
            return []
        aliases = {name: tag_name for name, (_pk, tag_name) in tags.items()}
        base = self._filtered(tags)
        self.plan = text.build_plan(parsed, tag_aliases=aliases, tag_names=tag_names)
        if not parsed.has_text:
            return self._ordered_ids(base)
        ids = self._matching_ids(base)
        self.complete_ids = set(ids)
        if self.sort != "relevance" or len(ids) >= RELAX_BELOW or not self.plan.has_positive:
            return ids
        corrections = _corrections(text.latin_words(parsed))
        if corrections:
            self.plan = text.build_plan(
                parsed, tag_aliases=aliases, tag_names=tag_names, corrections=corrections
            )
            ids = self._matching_ids(base)
            self.complete_ids = set(ids)
        if len(ids) < RELAX_BELOW and self.plan.can_relax:
            self.relaxed = True
            ids = self._matching_ids(base, relaxed=True, complete=ids)
        if len(ids) < RELAX_BELOW and not self.is_answer:
            fuzzy = [pk for pk in _fuzzy_title_ids(base, parsed) if pk not in ids]
            self.fuzzy = bool(fuzzy)
            ids += fuzzy
        return ids

    def _filtered(self, tags: dict[str, tuple[int, str]]) -> QuerySet:
        parsed = self.parsed
        visible_questions = Question.objects.visible_to(self.viewer)
        if self.is_answer:
            rows = Answer.objects.visible_to(self.viewer).filter(
                question__in=visible_questions.values("pk")
            )
            on_question = "question__"
        else:
            rows, on_question = visible_questions, ""
        tagged = Question.tags.through.objects
        for name in parsed.tags:
            rows = rows.filter(**{f"{on_question}pk__in": tagged.filter(
                tag_id=tags[name][0]).values("question_id")})  # fmt: skip
        excluded = [tags[name][0] for name in parsed.excluded_tags if name in tags]
        if excluded:
            rows = rows.exclude(**{f"{on_question}pk__in": tagged.filter(
                tag_id__in=excluded).values("question_id")})  # fmt: skip
        if parsed.user:
            if parsed.user.lower() == "me" and self.viewer.is_authenticated:
                rows = rows.filter(author_id=self.viewer.pk)
            else:
                rows = rows.filter(author__username__iexact=parsed.user)
        if parsed.score_min is not None:
            rows = rows.filter(score__gte=parsed.score_min)
        if parsed.answers_min is not None:
            rows = rows.filter(**{f"{on_question}answer_count__gte": parsed.answers_min})
        if parsed.accepted is not None:
            if self.is_answer:
                condition = Q(question__accepted_answer_id=F("pk"))
            else:
                condition = Q(accepted_answer__isnull=False)
            rows = rows.filter(condition) if parsed.accepted else rows.exclude(condition)
        if parsed.closed is not None:
            closed = Q(**{f"{on_question}status": Question.Status.CLOSED})
            rows = rows.filter(closed) if parsed.closed else rows.exclude(closed)
        if parsed.created_from:
            rows = rows.filter(created_at__gte=_midnight(parsed.created_from))
        if parsed.created_until:
            rows = rows.filter(created_at__lt=_midnight(parsed.created_until))
        return rows

    def _ordered_ids(self, rows: QuerySet) -> list[int]:
        order = {
            "score": ["-score", "-created_at", "-pk"],
            "newest": ["-created_at", "-pk"],
            "relevance": ["-created_at", "-pk"],  # nothing to rank by without words
        }[self.sort]
        ids = list(rows.order_by(*order).values_list("pk", flat=True)[: MAX_RESULTS + 1])
        self.truncated = len(ids) > MAX_RESULTS
        return ids[:MAX_RESULTS]

    def _matching_ids(
        self, rows: QuerySet, *, relaxed: bool = False, complete: list[int] | None = None
    ) -> list[int]:
        """Matching ids in the run's order. For relevance, at most TITLE_CANDIDATES rows that
        match in the title or tags and RANK_CANDIDATES rows that match anywhere are ranked (ts_rank
        reads each row's vector: the cost of a query is bounded by these numbers, not by how
        common its words are); title and tag matches first. `complete`: ids that have every word,
        put first when relaxed."""
        plan = self.plan
        query = plan.tsquery(relaxed=relaxed)
        if not query:  # only exclusions
            if not plan.excluded:
                return []
            return self._ordered_ids(
                rows.exclude(search__vector=RawTsQuery(plan.excluded_tsquery()))
            )
        if self.sort != "relevance":
            return self._ordered_ids(rows.filter(search__vector=RawTsQuery(query)))
        ranked = _reranked_ids(
            self.model,
            rows,
            plan=plan,
            query=query,
            # Title and tag matches are those with every word there, relaxed or not.
            title_query=plan.tsquery(in_title=True),
            relaxed=relaxed,
            complete=complete or [],
        )
        # The candidates are every match unless the "anywhere" ones were cut at RANK_CANDIDATES.
        self.truncated = len(ranked) >= RANK_CANDIDATES
        return ranked

    # --- hits for one page ------------------------------------------------------------------

    def hits(self, ids: list[int]) -> list[SearchHit]:
        if not ids:
            return []
        terms = self.plan.highlight_terms(relaxed=self.relaxed) if self.plan else set()
        hits = (self._answer_hits if self.is_answer else self._question_hits)(ids, terms)
        if self.relaxed or self.fuzzy:
            partial = [hit for hit in hits if hit.id not in self.complete_ids]
            missing = self._missing_terms([hit.id for hit in partial])
            for hit in partial:
                hit.matches_all_terms = False
                hit.missing_terms = missing.get(hit.id, [])
        return hits

    def _missing_terms(self, ids: list[int]) -> dict[int, list[str]]:
        """The query's words that each of these partial matches lacks (one query)."""
        groups = self.plan.groups if self.plan else []
        if not ids or not groups:
            return {}
        search_model = AnswerSearch if self.is_answer else QuestionSearch
        key = search_model._meta.pk.column
        tests = ", ".join(["s.vector @@ %s::tsquery"] * len(groups))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT s.{key}, ARRAY[{tests}] FROM {search_model._meta.db_table} s "  # noqa: S608
                f"WHERE s.{key} = ANY(%s)",
                [*(group.render() for group in groups), ids],
            )
            found = dict(cursor.fetchall())
        return {
            pk: [group.text for group, has in zip(groups, found.get(pk, []), strict=False)
                 if not has] or [group.text for group in groups]
            for pk in ids
        }  # fmt: skip

    def _question_hits(self, ids: list[int], terms: set[str]) -> list[SearchHit]:
        if self.details:  # the page shows authors and tags
            questions = (
                Question.objects.filter(pk__in=ids)
                .select_related("author")
                .only(*PAGE_FIELDS, "body")
                .annotate(tag_names=tag_names())
            )
            by_pk = {question.pk: question for question in questions}
        else:  # the API: plain rows are enough
            fields = ("pk", "title", "body", "score")
            by_pk = {
                row[0]: _Row(*row)
                for row in Question.objects.filter(pk__in=ids).values_list(*fields)
            }
        snippets = {pk: text.markdown_snippet(by_pk[pk].body, terms) for pk in ids}
        # A question found through its answers shows the answer's words in its snippet.
        through_answers = [pk for pk in ids if snippets[pk] is None and terms]
        if through_answers:
            for question_id, body in (
                Answer.objects.visible_to(self.viewer)
                .filter(question_id__in=through_answers)
                .order_by("question_id", "-score", "pk")
                .values_list("question_id", "body")
            ):
                if snippets[question_id] is None:
                    snippets[question_id] = text.markdown_snippet(body, terms)
        links = _Links()
        hits = []
        for pk in ids:
            question = by_pk[pk]
            hits.append(
                SearchHit(
                    type="question",
                    id=pk,
                    question_id=pk,
                    title=question.title,
                    title_html=text.highlight(question.title, terms),
                    snippet=snippets[pk] or text.leading_snippet(question.body),
                    score=question.score,
                    url=links.question(pk, question.title),
                    api_url=f"/api/v1/questions/{pk}/",
                    question=question if self.details else None,
                    tags=question.tag_names if self.details else [],
                )
            )
        return hits

    def _answer_hits(self, ids: list[int], terms: set[str]) -> list[SearchHit]:
        answers = Answer.objects.filter(pk__in=ids).select_related("question")
        fields = ["pk", "body", "score", "question_id",
                  *(f"question__{name}" for name in SUMMARY_FIELDS if name != "pk")]  # fmt: skip
        if self.details:  # the page also shows when and by whom
            fields += ["created_at", "author__username", "author__display_name"]
            answers = answers.select_related("author")
        answers = answers.only(*fields)
        by_pk = {answer.pk: answer for answer in answers}
        links = _Links()
        hits = []
        for pk in ids:
            answer = by_pk[pk]
            question = answer.question
            hits.append(
                SearchHit(
                    type="answer",
                    id=pk,
                    question_id=question.pk,
                    title=question.title,
                    title_html=text.highlight(question.title, terms),
                    snippet=text.markdown_snippet(answer.body, terms)
                    or text.leading_snippet(answer.body),
                    score=answer.score,
                    url=f"{links.question(question.pk, question.title)}#answer-{pk}",
                    api_url=f"/api/v1/answers/{pk}/",
                    question=question,
                    answer=answer,
                )
            )
        return hits


@dataclass
class _Row:
    pk: int
    title: str
    body: str
    score: int


class _Links:
    """question_url() for many questions: reverse() once, then fill in the id and slug."""

    ID, SLUG = 987654321, "s1u9g"

    def __init__(self):
        self.with_slug = reverse("kb:question_detail", kwargs={"pk": self.ID, "slug": self.SLUG})
        self.without_slug = reverse("kb:question_detail", kwargs={"pk": self.ID})

    def question(self, pk: int, title: str) -> str:
        slug = question_slug(title)
        if not slug:
            return self.without_slug.replace(str(self.ID), str(pk))
        return self.with_slug.replace(f"{self.ID}/{self.SLUG}", f"{pk}/{escape_uri_path(slug)}")


def _ranked(
    model,
    rows: QuerySet,
    *,
    query: str,
    title_query: str,
    weights: list[float],
    first: list[int] | None = None,
    columns: tuple[str, ...] = ("id",),
    limit: int = MAX_RESULTS,
    normalization: int | None = None,
    coverage: list[str] | None = None,
    title_implies_query: bool = False,
) -> tuple[str, list]:
    """The bounded candidates of `rows` matching `query`, best first: the `first` ids, then
    title and tag matches, then ts_rank with these weights, score, recency. One query.

    The candidates are at most TITLE_CANDIDATES rows matching in the title or tags (marked
    lexemes) and RANK_CANDIDATES rows matching anywhere; each is ranked once."""
    # A document with a word marked (in the title or tags) has it unmarked too: without phrases
    # (positions) or exclusions, the title query alone finds the title matches, and the GIN
    # index is asked for half as many words.
    if title_implies_query:
        in_title = rows.filter(search__vector=RawTsQuery(title_query))
    else:
        in_title = rows.filter(search__vector=RawTsQuery(f"({query}) & ({title_query})"))
    in_title_sql, in_title_params = in_title.values("pk")[:TITLE_CANDIDATES].query.sql_with_params()
    anywhere = rows.filter(search__vector=RawTsQuery(query)).values("pk")[:RANK_CANDIDATES]
    anywhere_sql, anywhere_params = anywhere.query.sql_with_params()
    search_model = QuestionSearch if model is Question else AnswerSearch
    key = search_model._meta.pk.column
    first_order = "c.pk = ANY(%s) DESC, " if first else ""
    head = (
        f"WITH in_title AS MATERIALIZED ({in_title_sql}), "  # noqa: S608 (our own SQL)
        f"anywhere AS MATERIALIZED ({anywhere_sql}), "
        "candidates AS (SELECT pk, max(title_hit) AS title_hit FROM ("
        "SELECT pk, 1 AS title_hit FROM in_title UNION ALL SELECT pk, 0 FROM anywhere"
        ") AS found GROUP BY pk) "
    )
    selected = ", ".join(f"post.{column}" for column in columns)
    joins = (
        f"FROM candidates c JOIN {model._meta.db_table} post ON post.id = c.pk "
        f"JOIN {search_model._meta.db_table} s ON s.{key} = c.pk "
    )
    params = [*in_title_params, *anywhere_params]
    if normalization is not None:  # every candidate with its signals, for _reranked_ids
        tests = " + ".join(["(s.vector @@ %s::tsquery)::int"] * len(coverage or []))
        questions = Question._meta.db_table
        title = "post.title" if model is Question else (
            f"(SELECT q.title FROM {questions} q WHERE q.id = post.question_id)")  # noqa: S608  # fmt: skip
        sql = (
            f"{head}SELECT {selected}, {title}, c.title_hit, "
            f"ts_rank(%s::float4[], s.vector, %s::tsquery, %s), {tests or 'NULL'} {joins}"
        )
        return sql, [*params, weights, query, normalization, *(coverage or [])]
    sql = (
        f"{head}SELECT {selected} {joins}"
        f"ORDER BY {first_order}c.title_hit DESC, ts_rank(%s::float4[], s.vector, %s::tsquery) "
        "DESC, post.score DESC, post.created_at DESC, post.id DESC LIMIT %s"
    )
    params = [*params, *([first] if first else []), weights, query]
    return sql, [*params, limit]


def _reranked_ids(
    model,
    rows: QuerySet,
    *,
    plan: QueryPlan,
    query: str,
    title_query: str,
    relaxed: bool,
    complete: list[int],
) -> list[int]:
    """The bounded candidates of _ranked, ordered the way an interviewer reads them (tuned on
    tests/kb/search_queries.toml; docs/search.md has the numbers):

    1. posts with every word of the query (`complete`, when the query was relaxed), and among
       partial matches those with more of the words (one vector test per word, relaxed only);
    2. every word in the title or the tags;
    3. more of the words in the title (the title names the concept: 注意力 finds a title with
       "Attention"), rarer words among the candidates' titles counting more;
    4. ts_rank over the weighted vector, divided by the document's length (RANK_NORMALIZATION:
       one mention in a long answer is weak), then score and recency.
    One query; the ordering past ts_rank is done here."""
    sql, params = _ranked(model, rows, query=query, title_query=title_query,
                          weights=RANK_WEIGHTS, normalization=RANK_NORMALIZATION,
                          coverage=[group.render() for group in plan.groups] if relaxed else [],
                          columns=("id", "score", "created_at"),
                          title_implies_query=not plan.phrases and not plan.excluded)  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows_found = cursor.fetchall()
    complete_set = set(complete)
    matchers = [text.group_matcher(group) for group in plan.groups]
    folded_titles = {row[0]: text.fold(row[3] or "") for row in rows_found}
    in_titles = {pk: [bool(title) and matcher(title) for matcher in matchers]
                 for pk, title in folded_titles.items()}  # fmt: skip
    # A word in few of the candidates' titles says more than one in many (ViT的结构: "ViT" in
    # one title outweighs 结构 in five): each word weighs 1 / the number of titles holding it.
    holding = [sum(found[index] for found in in_titles.values()) for index in range(len(matchers))]

    def key(row):
        pk, score, created_at, _title, title_hit, rank, coverage = row
        in_title = sum(1 / holding[index] for index, hit in enumerate(in_titles[pk]) if hit)
        return (pk in complete_set, coverage or 0, title_hit, in_title, rank, score, created_at,
                pk)  # fmt: skip

    return [row[0] for row in sorted(rows_found, key=key, reverse=True)]


def _ranked_summaries(rows: QuerySet, **options) -> list[Question]:
    """Ranked questions with the SUMMARY_FIELDS only (similar and related lists)."""
    sql, params = _ranked(Question, rows, columns=SUMMARY_COLUMNS, **options)
    return list(Question.objects.raw(sql, params))


@contextmanager
def _planned_for_vectors():
    """A transaction in which the planner will not scan a search table sequentially.

    The search tables are small (each vector lives in TOAST), so a sequential scan with `@@` as a
    filter looks cheap to PostgreSQL, which does not count the reading and decompressing of each
    vector (about 10 µs a row). When it misjudges how common the words are, it picks that plan
    and reads every vector of the table (over a second at 100,000 posts) where the GIN index
    answers in milliseconds. One more query per search."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
        yield


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _tags_named(names: set[str]) -> tuple[dict[str, tuple[int, str]], dict[str, list[str]]]:
    """Tags whose name or alias is one of `names` (lower case): name -> (tag id, tag name), and
    each such tag's aliases (tag name -> alias names: moderators' additions to its concept).
    One query."""
    names = {name.lower() for name in names if name}
    if not names:
        return {}, {}
    tag, alias = Tag._meta.db_table, TagAlias._meta.db_table
    aliases = f"ARRAY(SELECT x.name FROM {alias} x WHERE x.tag_id = t.id ORDER BY x.id)"  # noqa: S608
    with connection.cursor() as cursor:  # both lower(name) lookups use the unique indexes
        cursor.execute(
            f"SELECT lower(a.name), t.id, t.name, {aliases} FROM {alias} a "  # noqa: S608
            f"JOIN {tag} t ON t.id = a.tag_id WHERE lower(a.name) = ANY(%s) UNION ALL "
            f"SELECT lower(t.name), t.id, t.name, {aliases} FROM {tag} t "
            "WHERE lower(t.name) = ANY(%s)",
            [sorted(names), sorted(names)],
        )
        rows = cursor.fetchall()
    found: dict[str, tuple[int, str]] = {}
    tag_aliases: dict[str, list[str]] = {}
    for lower_name, pk, name, alias_names in rows:
        if lower_name not in found or name == lower_name:  # a tag's own name wins
            found[lower_name] = (pk, name)
        tag_aliases[name] = alias_names
    return found, tag_aliases


SUGGESTED_TAGS = 8


def _suggested_tags(parsed: ParsedQuery) -> list[str]:
    """Tags to try when a query finds nothing: those whose name or an alias looks most like its
    words (pg_trgm word_similarity), then the tags with the most questions. One query."""
    wanted = text.normalize(" ".join(parsed.words + parsed.phrases)).strip()[:100]
    tag, alias = Tag._meta.db_table, TagAlias._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT t.name FROM {tag} t WHERE t.question_count > 0 ORDER BY "  # noqa: S608
            "greatest(word_similarity(%s, t.name), (SELECT max(word_similarity(%s, a.name)) "
            f"FROM {alias} a WHERE a.tag_id = t.id)) DESC NULLS LAST, t.question_count DESC, "
            "t.name LIMIT %s",
            [wanted, wanted, SUGGESTED_TAGS],
        )
        return [name for (name,) in cursor.fetchall()]


def _corrections(words: set[str]) -> dict[str, str]:
    """Misspelt English words -> the closest word in the lexicon (one query). pg_trgm finds the
    candidates; the fewest edits (a swap counts once) picks one, then the trigram similarity.
    Words that are in the lexicon are left alone."""
    if not words:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT q.word, c.word, similarity(c.word, q.word) FROM unnest(%s::text[]) AS q(word) "
            "CROSS JOIN LATERAL (SELECT w.word FROM kb_searchword w WHERE w.word %% q.word "
            "ORDER BY similarity(w.word, q.word) DESC, w.word LIMIT %s) AS c",
            [sorted(words), CORRECTION_CANDIDATES],
        )
        rows = cursor.fetchall()
    known = {word for word, candidate, _similarity in rows if word == candidate}
    best: dict[str, tuple[int, float, str]] = {}
    for word, candidate, similarity in rows:
        if word in known:
            continue
        distance = text.edit_distance(word, candidate)
        if distance <= max(1, len(word) // 3):
            key = (distance, -similarity, candidate)
            if word not in best or key < best[word]:
                best[word] = key
    return {word: key[2] for word, key in best.items()}


def _fuzzy_titles(rows: QuerySet, parsed: ParsedQuery) -> QuerySet | None:
    """Questions whose title looks like the free words, most similar first (pg_trgm
    word_similarity over the title's GIN index); None when there is too little to compare."""
    wanted = text.normalize(" ".join(parsed.words + parsed.phrases)).strip()
    if len(wanted) < 2:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)",
            [str(TITLE_SIMILARITY)],
        )
    return (
        rows.filter(title__trigram_word_similar=wanted)
        .annotate(similarity=TrigramWordSimilarity(wanted, "title"))
        .order_by("-similarity", "-score", "-pk")
    )


def _fuzzy_title_ids(rows: QuerySet, parsed: ParsedQuery, *, limit: int = 10) -> list[int]:
    fuzzy = _fuzzy_titles(rows, parsed)
    return [] if fuzzy is None else list(fuzzy.values_list("pk", flat=True)[:limit])


def similar_question_list(*, viewer, title: str, limit: int = SIMILAR_LIMIT) -> list[Question]:
    """Questions that may already ask what a new title asks (duplicate suggestions while typing):
    any word of the title may match, title matches first; fuzzy title matches fill up. Two
    queries, four when fuzzy titles are needed."""
    parsed = ParsedQuery(text=title[: text.QUERY_MAX_LENGTH], words=title.split()[:30])
    plan = text.build_plan(parsed)
    rows = Question.objects.visible_to(viewer).exclude(status=Question.Status.DELETED)
    found: list[Question] = []
    query = plan.tsquery(relaxed=True)
    with _planned_for_vectors():
        if query:
            title_query = plan.tsquery(relaxed=True, in_title=True)
            found = _ranked_summaries(rows, query=query, title_query=title_query,
                                      weights=SIMILAR_WEIGHTS, limit=limit,
                                      title_implies_query=True)  # fmt: skip
        fuzzy = _fuzzy_titles(rows, parsed) if len(found) < limit else None
        if fuzzy is not None:
            seen = {question.pk for question in found}
            found += [q for q in fuzzy.only(*SUMMARY_FIELDS)[: limit * 2] if q.pk not in seen]
    return found[:limit]


def similar_tag_list(*, title: str, limit: int = SIMILAR_LIMIT) -> list[str]:
    """Tags for a question being asked: those the title names (a tag's name or alias, or a
    concept of the lexicon that has a tag: 注意力机制 -> attention), in the order the title
    names them. One query (none for a title that names nothing)."""
    parsed = ParsedQuery(text=title[: text.QUERY_MAX_LENGTH], words=title.split()[:30])
    candidates = text.alias_candidates(parsed)
    tags, _aliases = _tags_named(candidates)
    if not tags:
        return []
    ordered = []
    for word in text.concept_words(parsed.words):
        for name in [text.normalize(word).strip(), *text.word_tokens(word)]:
            concept = text.concept_named(name)
            for candidate in (name, concept.tag if concept else ""):
                if candidate in tags:
                    ordered.append(tags[candidate][1])
    return list(dict.fromkeys(ordered))[:limit]


def related_question_list(
    *, viewer, question: Question, limit: int = SIMILAR_LIMIT
) -> list[Question]:
    """Other questions about the same thing, for the question page: any word of the title may
    match, or any of its tags; title and tag matches first (`question` needs the tag_names that
    question_get reads).

    Ranking them costs 10-15 ms at 10,000 questions, so which questions are related is cached
    for RELATED_CACHE_SECONDS per question and state of its title and tags (a new edit starts
    afresh); what is shown of them (title, score, visibility) is read fresh. One query when
    cached, two when not."""
    key = f"related:{SEARCH_VERSION}:{question.pk}:{question.updated_at.timestamp()}:{limit}"
    ids = cache.get(key)
    if ids is None:
        ids = [related.pk for related in _related_ranked(question, limit=limit + RELATED_SPARE)]
        cache.set(key, ids, RELATED_CACHE_SECONDS)
    if not ids:
        return []
    rows = Question.objects.visible_to(viewer).exclude(status=Question.Status.DELETED)
    by_pk = rows.only(*SUMMARY_FIELDS).in_bulk(ids)
    return [by_pk[pk] for pk in ids if pk in by_pk][:limit]


def _related_ranked(question: Question, *, limit: int) -> list[Question]:
    parsed = ParsedQuery(text=question.title, words=question.title.split()[:30])
    plan = text.build_plan(parsed)
    for name in question.tag_names:
        lexemes = text.token_lexemes(text.normalize(name))[:1]
        if lexemes:
            plan.groups.append(
                text.TermGroup(text=name, alternatives=[text.Alternative(lexemes, True)])
            )
    query = plan.tsquery(relaxed=True)
    if not query:
        return []
    rows = Question.objects.visible_to(AnonymousUser()).exclude(status=Question.Status.DELETED)
    title_query = plan.tsquery(relaxed=True, in_title=True)
    with _planned_for_vectors():
        return _ranked_summaries(rows.exclude(pk=question.pk), query=query,
                                 title_query=title_query, weights=SIMILAR_WEIGHTS,
                                 limit=limit, title_implies_query=True)  # fmt: skip
