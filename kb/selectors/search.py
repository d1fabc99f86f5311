"""Search reads: the ranked result list, duplicate suggestions for a new title.

How a query runs (docs/search.md has the measurements behind it):
1. parse the Stack Exchange syntax; look up tag names and aliases the query mentions (one query);
2. every free word required (AND); a word that names a tag also matches posts with that tag;
3. relevance only, while fewer than RELAX_BELOW results: correct misspelt English words against the
   lexicon; then let any word match (OR); then add fuzzy matches on question titles (pg_trgm).
Ranking is bounded: at most MAX_RESULTS matching rows are ranked, with title and tag matches first,
then ts_rank, then score and recency. Visibility comes from the models' visible_to(viewer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVectorExact,
    TrigramWordSimilarity,
)
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import F, Prefetch, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.safestring import SafeString

from kb import search as text
from kb.models import Answer, Question, Tag, TagAlias
from kb.search import ParsedQuery, QueryPlan
from kb.templatetags.kb_pages import question_url

SORTS = ("relevance", "newest", "score")
PAGE_SIZE = 30
MAX_PAGE_SIZE = 100
MAX_RESULTS = 1000  # rows ranked and returned per query: bounds the cost of very common words
RELAX_BELOW = 3  # fewer results than this: correct typos, then OR the words, then fuzzy titles
RANK_WEIGHTS = [0.1, 0.2, 0.4, 1.0]  # D answers, C body, B tags, A title
TITLE_SIMILARITY = 0.4  # pg_trgm word_similarity for the fuzzy title fallback
SIMILAR_LIMIT = 5
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
    question: Question
    answer: Answer | None = None


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

    @property
    def hits(self) -> list[SearchHit]:
        return list(self.page.object_list)

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
) -> SearchResults:
    """Search questions (or answers with is:answer) that the viewer may see.

    `page` past the end raises django.core.paginator.InvalidPage when strict_page, else gives the
    last page (and a non-number the first)."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {SORTS}")
    page_size = max(1, min(MAX_PAGE_SIZE, page_size))
    parsed = text.parse_query(query)
    run = _Run(viewer=viewer, parsed=parsed, sort=sort)
    ids = run.execute() if not parsed.is_empty else []
    paginator = Paginator(ids, page_size)
    current = paginator.page(page) if strict_page else paginator.get_page(page)
    current.object_list = run.hits(list(current.object_list))
    return SearchResults(
        query=parsed.text,
        parsed=parsed,
        sort=sort,
        page=current,
        corrections=run.plan.corrections if run.plan else {},
        relaxed=run.relaxed,
        fuzzy=run.fuzzy,
        unknown_tags=run.unknown_tags,
    )


class _Run:
    """One search: the filters, the plan and the fallbacks, then the hits for one page."""

    def __init__(self, *, viewer, parsed: ParsedQuery, sort: str):
        self.viewer = viewer
        self.parsed = parsed
        self.sort = sort
        self.is_answer = parsed.kind == "answer"
        self.model = Answer if self.is_answer else Question
        self.plan: QueryPlan | None = None
        self.relaxed = False
        self.fuzzy = False
        self.unknown_tags: list[str] = []

    # --- ids --------------------------------------------------------------------------------

    def execute(self) -> list[int]:
        parsed = self.parsed
        names = text.alias_candidates(parsed) | set(parsed.tags) | set(parsed.excluded_tags)
        tags = _tags_named(names)  # lower-case name or alias -> (tag id, tag name)
        self.unknown_tags = [name for name in parsed.tags if name not in tags]
        if self.unknown_tags:
            return []
        aliases = {name: tag_name for name, (_pk, tag_name) in tags.items()}
        base = self._filtered(tags)
        self.plan = text.build_plan(parsed, tag_aliases=aliases)
        if not parsed.has_text:
            return self._ordered_ids(base)
        ids = self._matching_ids(base)
        if self.sort != "relevance" or len(ids) >= RELAX_BELOW or not self.plan.has_positive:
            return ids
        corrections = _corrections(text.latin_words(parsed))
        if corrections:
            self.plan = text.build_plan(parsed, tag_aliases=aliases, corrections=corrections)
            ids = self._matching_ids(base)
        if len(ids) < RELAX_BELOW and len(self.plan.groups) > 1:
            self.relaxed = True
            ids = self._matching_ids(base, relaxed=True)
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
        return list(rows.order_by(*order).values_list("pk", flat=True)[:MAX_RESULTS])

    def _matching_ids(self, rows: QuerySet, *, relaxed: bool = False) -> list[int]:
        plan = self.plan
        query = plan.tsquery(relaxed=relaxed)
        if not query:  # only exclusions
            if not plan.excluded:
                return []
            return self._ordered_ids(
                rows.exclude(search__vector=RawTsQuery(plan.excluded_tsquery()))
            )
        matching = rows.filter(search__vector=RawTsQuery(query))
        if self.sort != "relevance":
            return self._ordered_ids(matching)
        candidates = matching.values("pk")[:MAX_RESULTS]
        vector = F("search__vector")
        ranked = self.model.objects.filter(pk__in=candidates).annotate(
            # every word in the title or tags; when relaxed, any word there
            title_hit=SearchVectorExact(
                vector, RawTsQuery(plan.tsquery(relaxed=relaxed, weights="AB"))
            ),
            rank=SearchRank(vector, RawTsQuery(query), weights=RANK_WEIGHTS),
        )
        order = [F("title_hit").desc(), "-rank", "-score", "-created_at", "-pk"]
        if relaxed:  # posts with all the words still come first
            ranked = ranked.annotate(complete=SearchVectorExact(vector, RawTsQuery(plan.tsquery())))
            order.insert(0, F("complete").desc())
        return list(ranked.order_by(*order).values_list("pk", flat=True))

    # --- hits for one page ------------------------------------------------------------------

    def hits(self, ids: list[int]) -> list[SearchHit]:
        if not ids:
            return []
        terms = self.plan.highlight_terms() if self.plan else set()
        if self.is_answer:
            return self._answer_hits(ids, terms)
        return self._question_hits(ids, terms)

    def _question_hits(self, ids: list[int], terms: set[str]) -> list[SearchHit]:
        questions = {
            question.pk: question
            for question in Question.objects.filter(pk__in=ids)
            .select_related("author")
            .prefetch_related(
                Prefetch("tags", queryset=Tag.objects.order_by("name").only("pk", "name"))
            )
            .defer("body_html")
        }
        bodies = {pk: text.plain_text(question.body) for pk, question in questions.items()}
        # A question found through its answers shows the answer's words in its snippet.
        through_answers = [pk for pk in ids if terms and not text.has_match(bodies[pk], terms)]
        answer_texts: dict[int, str] = {}
        if through_answers:
            for answer in (
                Answer.objects.visible_to(self.viewer)
                .filter(question_id__in=through_answers)
                .only("pk", "question_id", "body")
                .order_by("question_id", "-score", "pk")
            ):
                if answer.question_id not in answer_texts:
                    body = text.plain_text(answer.body)
                    if text.has_match(body, terms):
                        answer_texts[answer.question_id] = body
        hits = []
        for pk in ids:
            question = questions[pk]
            source = answer_texts.get(pk, bodies[pk])
            hits.append(
                SearchHit(
                    type="question",
                    id=pk,
                    question_id=pk,
                    title=question.title,
                    title_html=text.highlight(question.title, terms),
                    snippet=text.snippet(source, terms),
                    score=question.score,
                    url=question_url(question),
                    api_url=f"/api/v1/questions/{pk}/",
                    question=question,
                )
            )
        return hits

    def _answer_hits(self, ids: list[int], terms: set[str]) -> list[SearchHit]:
        answers = {
            answer.pk: answer
            for answer in Answer.objects.filter(pk__in=ids)
            .select_related("author", "question")
            .defer("body_html", "question__body", "question__body_html")
        }
        hits = []
        for pk in ids:
            answer = answers[pk]
            question = answer.question
            hits.append(
                SearchHit(
                    type="answer",
                    id=pk,
                    question_id=question.pk,
                    title=question.title,
                    title_html=text.highlight(question.title, terms),
                    snippet=text.snippet(text.plain_text(answer.body), terms),
                    score=answer.score,
                    url=f"{question_url(question)}#answer-{pk}",
                    api_url=f"/api/v1/answers/{pk}/",
                    question=question,
                    answer=answer,
                )
            )
        return hits


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _tags_named(names: set[str]) -> dict[str, tuple[int, str]]:
    """Tags whose name or alias is one of `names` (lower case): name -> (tag id, tag name).
    One query."""
    names = {name.lower() for name in names if name}
    if not names:
        return {}
    by_name = (
        Tag.objects.annotate(lower_name=Lower("name"))
        .filter(lower_name__in=names)
        .values_list("lower_name", "pk", "name")
    )
    by_alias = (
        TagAlias.objects.annotate(lower_name=Lower("name"))
        .filter(lower_name__in=names)
        .values_list("lower_name", "tag_id", "tag__name")
    )
    found: dict[str, tuple[int, str]] = {}
    for lower_name, pk, name in by_alias.union(by_name, all=True):
        if lower_name not in found or name == lower_name:  # a tag's own name wins
            found[lower_name] = (pk, name)
    return found


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
    any word of the title may match, title matches first; fuzzy title matches fill up. At most
    three queries."""
    parsed = ParsedQuery(text=title[: text.QUERY_MAX_LENGTH], words=title.split()[:30])
    plan = text.build_plan(parsed)
    rows = Question.objects.visible_to(viewer).exclude(status=Question.Status.DELETED)
    fields = ("pk", "title", "score", "answer_count", "accepted_answer_id", "status")
    found: list[Question] = []
    query = plan.tsquery(relaxed=True)
    if query:
        candidates = rows.filter(search__vector=RawTsQuery(query)).values("pk")[:MAX_RESULTS]
        found = list(
            Question.objects.filter(pk__in=candidates)
            .annotate(
                rank=SearchRank(F("search__vector"), RawTsQuery(query), weights=SIMILAR_WEIGHTS)
            )
            .only(*fields)
            .order_by("-rank", "-score", "-pk")[:limit]
        )
    fuzzy = _fuzzy_titles(rows, parsed) if len(found) < limit else None
    if fuzzy is not None:
        seen = {question.pk for question in found}
        found += [q for q in fuzzy.only(*fields)[: limit * 2] if q.pk not in seen]
    return found[:limit]
