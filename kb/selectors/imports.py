"""Reads for article imports: the plan of an import (what each question would become, matched
against the knowledge base), a member's imports, one import.

Matching: for each imported title, candidates come from the site's duplicate search
(kb.selectors.search.similar_question_list) and from pg_trgm title similarity; each candidate is
scored by `title_similarity` (Dice coefficient of character bigrams of the two titles' cores:
normalised, without question words and punctuation). The best candidate at or above
MATCH_THRESHOLD is the question the import duplicates. tests/kb/test_import_match.py holds the
pairs the threshold was tuned on.
"""

import hashlib
import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import TrigramSimilarity
from django.db.models import QuerySet

from kb import permissions
from kb.article_import import (
    ArticleError,
    article_decode_detected,
    article_parse,
    tag_vocabulary_get,
)
from kb.models import Answer, ArticleImport, Question
from kb.search import normalize
from kb.selectors.search import similar_question_list

MATCH_THRESHOLD = 0.6
TRIGRAM_CANDIDATE_SIMILARITY = 0.25
CANDIDATES = 5
TERMS_FLOOR = 0.4  # with the same terms, how much the rest of the wording can take away
ONE_SIDED_WORDING = 0.25
# Words that ask rather than name: "什么是 RoPE？" and "RoPE 的原理" ask about the same thing.
FILLER = re.compile(
    r"什么是|是什么|为什么|介绍一下|请介绍|简单介绍|简述|说说|讲讲|谈谈|请问|有什么|有哪些|"
    r"是怎样|怎样|怎么|如何|一下|分别|几种|进行|方式|方法|原理|区别|作用|介绍|"
    r"的|了|吗|呢|和|与|跟|及|以及|是|能|vs|versus"
)
TERM = re.compile(r"[a-z0-9]+(?:[-+.][a-z0-9]+)*")
NOT_WORD = re.compile(r"[\W_]+")

ACTION_NEW, ACTION_ADD, ACTION_SKIP = "new", "add", "skip"
ACTIONS = (ACTION_NEW, ACTION_ADD, ACTION_SKIP)


def title_parts(title: str) -> tuple[frozenset[str], str]:
    """A title's technical terms (Latin words: "layernorm", "blip-2") and the rest of its words
    without question words and punctuation ("网络结构")."""
    text = normalize(title)
    terms = frozenset(term for term in TERM.findall(text) if re.search(r"[a-z]", term))
    rest = NOT_WORD.sub("", FILLER.sub("", TERM.sub(" ", text)))
    return terms, rest


def _bigrams(text: str) -> set[str]:
    if len(text) < 2:
        return {text} if text else set()
    return {text[index : index + 2] for index in range(len(text) - 1)}


def title_similarity(first: str, second: str) -> float:
    """0..1: how much two question titles ask the same thing. The terms decide first (Jaccard
    of the two sets: "LayerNorm和BatchNorm" is not "RMSNorm和LayerNorm"); the rest of the
    wording (Dice coefficient of character bigrams) scales that between TERMS_FLOOR and 1, and
    counts alone when neither title has terms. Two titles that are only their terms ("什么是
    RoPE？", "RoPE 的原理") are the same; one that says more than the other is probably not."""
    terms_a, rest_a = title_parts(first)
    terms_b, rest_b = title_parts(second)
    if not (rest_a or rest_b):
        wording = 1.0  # the terms are all either says
    elif not (rest_a and rest_b):
        wording = ONE_SIDED_WORDING  # one says more than the terms: "LoRA 有哪些缺点"
    else:
        a, b = _bigrams(rest_a), _bigrams(rest_b)
        wording = 2 * len(a & b) / (len(a) + len(b))
    if not (terms_a or terms_b):
        return wording if rest_a and rest_b else 0.0
    terms = len(terms_a & terms_b) / len(terms_a | terms_b)
    return terms * (TERMS_FLOOR + (1 - TERMS_FLOOR) * wording)


@dataclass(frozen=True)
class QuestionMatch:
    question_id: int
    title: str
    score: float


def question_match(*, viewer, title: str) -> QuestionMatch | None:
    """The visible question `title` duplicates, or None (at most five queries)."""
    candidates = {q.pk: q.title for q in similar_question_list(viewer=viewer, title=title)}
    rows = Question.objects.visible_to(viewer).exclude(status=Question.Status.DELETED)
    similar = (
        rows.annotate(similarity=TrigramSimilarity("title", title))
        .filter(similarity__gte=TRIGRAM_CANDIDATE_SIMILARITY)
        .order_by("-similarity", "pk")
        .values_list("pk", "title")[:CANDIDATES]
    )
    candidates.update(dict(similar))
    scored = sorted(
        ((title_similarity(title, other), -pk, other) for pk, other in candidates.items()),
        reverse=True,
    )
    if not scored or scored[0][0] < MATCH_THRESHOLD:
        return None
    score, negative_pk, other = scored[0]
    return QuestionMatch(question_id=-negative_pk, title=other, score=round(score, 2))


@dataclass
class PlanEntry:
    title: str
    answer: str
    tags: list[str]
    section: str = ""
    body: str = ""  # the new question's body: where it came from
    action: str = ACTION_NEW
    target_id: int | None = None  # for "add": the question the answer goes to
    match_id: int | None = None  # the existing question it seems to duplicate
    match_title: str = ""
    score: float = 0.0
    already_there: bool = False  # the match has this very answer: importing adds nothing

    @property
    def first_line(self) -> str:
        return next((line for line in self.answer.splitlines() if line.strip()), "")[:120]


@dataclass
class ImportPlan:
    page_title: str
    source_name: str
    encoding: str
    content_hash: str
    entries: list[PlanEntry] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    dropped_count: int = 0
    license: str = ""  # the license line the page shows, when it shows one

    @property
    def counts(self) -> dict[str, int]:
        return {action: sum(1 for e in self.entries if e.action == action) for action in ACTIONS}


LICENSE_LINE = re.compile(r"(CC\s*[0-9.]*\s*BY|知识共享|许可协议|版权协议|license|版权归)", re.I)


def import_plan_read(*, viewer, data: bytes, source_name: str = "") -> ImportPlan:
    """Decode and parse an uploaded article and match each question against the knowledge base.
    ArticleError for a file that cannot be read or holds no question."""
    text, encoding = article_decode_detected(data)
    parsed = article_parse(text, source_name=source_name, vocabulary=tag_vocabulary_get())
    if not parsed.items:
        raise ArticleError(
            "no questions found (a question is a heading, a line ending in “？”, or a short line "
            "set off by blank lines before its answer, repeating through the page)"
        )
    plan = ImportPlan(
        page_title=parsed.page_title,
        source_name=source_name,
        encoding=encoding,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        unanswered=list(parsed.unanswered),
        dropped_count=len(parsed.dropped_lines),
        license=next((line for line in parsed.dropped_lines if LICENSE_LINE.search(line)), "")[
            :300
        ],
    )
    for item in parsed.items:
        plan.entries.append(
            PlanEntry(
                title=item.title,
                answer=item.answer,
                tags=list(item.tags),
                section=item.section,
                body=item.body,
            )
        )
    plan_match(viewer=viewer, entries=plan.entries)
    return plan


def plan_match(*, viewer, entries: list[PlanEntry], keep_actions: bool = False) -> None:
    """Find each entry's match. Without `keep_actions` the action follows it: "add" to the
    match, "new" without one, "skip" when the match already has the same answer (so a re-import
    adds nothing). With `keep_actions` (a plan the member adjusted) their choices stay; an "add"
    without a target goes to the match."""
    for entry in entries:
        match = question_match(viewer=viewer, title=entry.title)
        entry.match_id = match.question_id if match else None
        entry.match_title = match.title if match else ""
        entry.score = match.score if match else 0.0
    targets = {entry.match_id for entry in entries if entry.match_id}
    existing = set(
        Answer.objects.filter(question_id__in=targets, is_deleted=False).values_list(
            "question_id", "body"
        )
    )
    for entry in entries:
        entry.already_there = (entry.match_id, entry.answer.strip()) in existing
        if keep_actions and entry.action in ACTIONS:
            if entry.action == ACTION_ADD and not entry.target_id:
                entry.target_id = entry.match_id
            continue
        entry.target_id = entry.match_id
        if entry.already_there:
            entry.action = ACTION_SKIP
        elif entry.match_id:
            entry.action = ACTION_ADD
        else:
            entry.action = ACTION_NEW


def plan_merge(entries: list[PlanEntry], index: int) -> None:
    """Merge entry `index + 1` into entry `index`: its title becomes a paragraph of the answer
    (the parser took a line of the answer for a question)."""
    first, second = entries[index], entries.pop(index + 1)
    first.answer = f"{first.answer}\n\n{second.title}\n\n{second.answer}".strip()
    first.tags = list(dict.fromkeys([*first.tags, *second.tags]))


def plan_split(entries: list[PlanEntry], index: int, line: str) -> bool:
    """Split entry `index` at the answer line `line`, which becomes the title of a new entry
    with the rest of the answer (the parser missed a question). False if no line matches."""
    entry = entries[index]
    lines = entry.answer.split("\n")
    wanted = line.strip()
    at = next((n for n, text in enumerate(lines) if n and text.strip() == wanted), None)
    if not wanted or at is None:
        return False
    rest = "\n".join(lines[at + 1 :]).strip()
    entry.answer = "\n".join(lines[:at]).strip()
    title = wanted.strip("*# ").strip()
    entries.insert(
        index + 1,
        PlanEntry(
            title=title, answer=rest, tags=list(entry.tags), section=entry.section, body=entry.body
        ),  # fmt: skip
    )
    return True


def import_list(*, viewer) -> QuerySet[ArticleImport]:
    """The viewer's imports (every import for moderators), newest first."""
    if not permissions.is_active_member(viewer):
        return ArticleImport.objects.none()
    rows = ArticleImport.objects.select_related("actor", "undone_by")
    if not permissions.is_moderator(viewer):
        rows = rows.filter(actor=viewer)
    return rows.order_by("-created_at", "-pk")


def import_get(*, viewer, pk: int) -> ArticleImport:
    """One import the viewer may see; ArticleImport.DoesNotExist otherwise."""
    return import_list(viewer=viewer).get(pk=pk)
