"""The Mianjing dump: the whole knowledge base as versioned JSON Lines (docs/dump-format.md).

One module serves three callers: `manage.py export_kb` (full dump, for backups and moving a site),
`manage.py import_kb` (loads a full dump into an empty database) and `GET /api/v1/dump/` (the
public dump for dataset builders). `public=True` is the only switch between the two exports.

Line 1 is a header; then one record per line, the record types in RECORD_TYPES order, each type
sorted by id (notification_settings by user_id, its key). Keys are sorted and timestamps are UTC,
so export -> import -> export gives the same bytes (apart from the header's `exported_at`).
"""

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AnonymousUser, Group
from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.core.management.color import no_style
from django.db import DataError, IntegrityError, connection, models, transaction
from django.db.models import Case, Expression, F, OuterRef, Q, QuerySet, When
from django.utils import timezone

from accounts.models import ReputationEvent, User
from kb.models import (
    Answer,
    ArticleImport,
    CloseVote,
    Comment,
    CommentRevision,
    Flag,
    ModerationAction,
    Question,
    ReviewVote,
    Revision,
    Tag,
    TagAlias,
    Vote,
)
from kb.selectors.questions import tag_names
from notifications.models import (
    Bookmark,
    Notification,
    NotificationSettings,
    QuestionFollow,
    TagPreference,
)
from practice.models import PracticeCard, PracticeReview

FORMAT = "mianjing-dump"
VERSION = 1
SITE_NAME = "面经 Mianjing"
LICENCE = "CC BY-SA 4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by-sa/4.0/"
CHUNK_SIZE = 2000
IMPORT_BATCH_SIZE = 1000
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class DumpError(Exception):
    """The dump cannot be read or loaded; the message names the line where that is known."""


@dataclass(frozen=True)
class RecordType:
    """One kind of record: the model, the model fields it carries (by attname) and the lists
    of names computed from related rows (a question's tags, a tag's aliases, a user's groups)."""

    name: str
    model: type[models.Model]
    fields: tuple[str, ...]
    name_lists: tuple[str, ...] = ()
    in_public_dump: bool = True
    private_fields: frozenset[str] = field(default_factory=frozenset)

    def keys(self, *, public: bool) -> tuple[str, ...]:
        keys = self.fields + self.name_lists
        if public:
            keys = tuple(k for k in keys if k not in self.private_fields)
        return keys


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


POST_FIELDS = "body body_html renderer_version"
# A question's interview fields (kb.interview), on question and revision records. Added within
# version 1: a reader that does not know them may ignore them, and a dump without them imports.
INTERVIEW_FIELDS = "difficulty short_answer key_points common_mistakes follow_ups"
RECORD_TYPES: tuple[RecordType, ...] = (
    RecordType(
        "user",
        User,
        fields=_words(
            "id username email first_name last_name display_name bio preferred_language "
            "reputation is_system is_active is_staff is_superuser suspended_until date_joined "
            "last_login practice_due_at"
        ),
        name_lists=("groups",),
        private_fields=frozenset(
            _words(
                "email first_name last_name preferred_language is_active is_staff is_superuser "
                "suspended_until last_login groups practice_due_at"
            )
        ),
    ),
    RecordType(
        "tag",
        Tag,
        fields=_words("id name description question_count created_at"),
        name_lists=("aliases",),
    ),
    RecordType(
        "question",
        Question,
        fields=_words(
            f"id title {POST_FIELDS} author_id status close_reason duplicate_of_id protected "
            "locked_until accepted_answer_id score answer_count view_count revision_count "
            f"created_at updated_at last_activity_at {INTERVIEW_FIELDS} hidden_by_flags"
        ),
        name_lists=("tags",),
        private_fields=frozenset({"hidden_by_flags"}),
    ),
    RecordType(
        "article_import",
        ArticleImport,
        fields=_words(
            "id actor_id source_title source_url license source_name encoding content_hash "
            "question_ids answer_ids created_at undone_at undone_by_id"
        ),
    ),
    RecordType(
        "answer",
        Answer,
        fields=_words(
            f"id question_id author_id {POST_FIELDS} score is_deleted locked_until "
            "revision_count created_at updated_at verification imported_from_id verified_by_id "
            "verified_at hidden_by_flags"
        ),
        private_fields=frozenset({"hidden_by_flags"}),
    ),
    RecordType(
        "revision",
        Revision,
        fields=_words(
            "id question_id answer_id number title body tags author_id summary base_revision_id "
            "rollback_of_id status reviewer_id reviewed_at review_note created_at "
            f"{INTERVIEW_FIELDS}"
        ),
    ),
    RecordType(
        "comment",
        Comment,
        fields=_words(
            f"id question_id answer_id author_id {POST_FIELDS} is_deleted created_at updated_at "
            "hidden_by_flags"
        ),
        private_fields=frozenset({"hidden_by_flags"}),
    ),
    RecordType(
        "comment_revision",
        CommentRevision,
        fields=_words("id comment_id number body author_id created_at"),
    ),
    RecordType(
        "vote",
        Vote,
        fields=_words("id user_id question_id answer_id value created_at updated_at"),
        in_public_dump=False,
    ),
    RecordType(
        "flag",
        Flag,
        fields=_words(
            "id user_id question_id answer_id comment_id reason text status handled_by_id "
            "handled_at created_at"
        ),
        in_public_dump=False,
    ),
    RecordType(
        "moderation_action",
        ModerationAction,
        fields=_words(
            "id actor_id action question_id answer_id comment_id target_user_id reason "
            "is_public details created_at"
        ),
    ),
    RecordType(
        "reputation_event",
        ReputationEvent,
        fields=_words(
            "id user_id kind amount question_id answer_id vote_id reverses_id reason created_at"
        ),
        in_public_dump=False,
    ),
    # Added within version 1 (full dump only): what a restored site needs beyond the content,
    # so a backup restores a working site. A dump written before them lacks these records.
    RecordType(
        "review_vote",
        ReviewVote,
        fields=_words("id revision_id reviewer_id decision reason created_at"),
        in_public_dump=False,
    ),
    RecordType(
        "close_vote",
        CloseVote,
        fields=_words("id question_id user_id kind reason duplicate_of_id is_active created_at"),
        in_public_dump=False,
    ),
    RecordType(
        "question_follow",
        QuestionFollow,
        fields=_words("id user_id question_id active created_at"),
        in_public_dump=False,
    ),
    RecordType(
        "bookmark",
        Bookmark,
        fields=_words("id user_id question_id created_at"),
        in_public_dump=False,
    ),
    RecordType(
        "tag_preference",
        TagPreference,
        fields=_words("id user_id tag_id kind"),
        in_public_dump=False,
    ),
    RecordType(
        "notification_settings",
        NotificationSettings,
        fields=_words("user_id email_mode hide_ignored version changed_at last_digest_at"),
        in_public_dump=False,
    ),
    RecordType(
        "notification",
        Notification,
        fields=_words(
            "id recipient_id actor_id kind question_id answer_id comment_id revision_id text "
            "read_at mailed_at created_at"
        ),
        in_public_dump=False,
    ),
    RecordType(
        "practice_card",
        PracticeCard,
        fields=_words(
            "id user_id question_id state step stability difficulty due last_review "
            "review_count lapse_count created_at"
        ),
        in_public_dump=False,
    ),
    RecordType(
        "practice_review",
        PracticeReview,
        fields=_words("id card_id grade state_before reviewed_at"),
        in_public_dump=False,
    ),
)
# Fields a reader accepts missing: a password (a dump without credentials) and what version 1
# files written before imports existed lack (an answer's verification and provenance).
OPTIONAL_FIELDS = {
    "user": {"password", "practice_due_at"},
    "answer": {
        "verification",
        "imported_from_id",
        "verified_by_id",
        "verified_at",
        "hidden_by_flags",
    },
    "question": {*INTERVIEW_FIELDS.split(), "hidden_by_flags"},
    "revision": set(INTERVIEW_FIELDS.split()),
    "comment": {"hidden_by_flags"},
}
RECORD_TYPES_BY_NAME = {record_type.name: record_type for record_type in RECORD_TYPES}
DUMPED_MODELS = [record_type.model for record_type in RECORD_TYPES]


# --- Export ---------------------------------------------------------------------------------


def _names(queryset: QuerySet, outer: str) -> ArraySubquery:
    return ArraySubquery(queryset.filter(**{outer: OuterRef("pk")}).order_by("name").values("name"))


NAME_LIST_EXPRESSIONS: dict[tuple[str, str], Callable[[], Expression]] = {
    ("user", "groups"): lambda: _names(Group.objects.all(), "user"),
    ("tag", "aliases"): lambda: _names(TagAlias.objects.all(), "tag"),
    ("question", "tags"): tag_names,
}


# The public dump shows what an anonymous reader sees: the same visibility rule as every page
# and endpoint (models' visible_to), so posts deleted or hidden by spam flags stay out.
_ANONYMOUS = AnonymousUser()


def public_question_ids() -> QuerySet:
    return Question.objects.visible_to(_ANONYMOUS).values("pk")


def public_answer_ids() -> QuerySet:
    return (
        Answer.objects.visible_to(_ANONYMOUS)
        .filter(question__in=public_question_ids())
        .values("pk")
    )


def public_comment_ids() -> QuerySet:
    on_public_post = Q(question__in=public_question_ids()) | Q(answer__in=public_answer_ids())
    return Comment.objects.visible_to(_ANONYMOUS).filter(on_public_post).values("pk")


def _public_rows(name: str, queryset: QuerySet) -> tuple[QuerySet, dict[str, Expression]]:
    """What the public dump holds of one record type, and the fields it overrides: references to
    posts that the public dump leaves out become null."""
    overrides: dict[str, Expression] = {}
    if name == "question":
        queryset = queryset.filter(pk__in=public_question_ids())
        overrides = {
            "accepted_answer_id": Case(
                When(accepted_answer__in=public_answer_ids(), then=F("accepted_answer_id"))
            ),
            "duplicate_of_id": Case(
                When(duplicate_of__in=public_question_ids(), then=F("duplicate_of_id"))
            ),
        }
    elif name == "answer":
        queryset = queryset.filter(pk__in=public_answer_ids())
    elif name == "comment":
        queryset = queryset.filter(pk__in=public_comment_ids())
    elif name == "comment_revision":
        queryset = queryset.filter(comment__in=public_comment_ids())
    elif name == "revision":
        on_public_post = Q(question__in=public_question_ids()) | Q(answer__in=public_answer_ids())
        queryset = queryset.filter(on_public_post, status=Revision.Status.APPROVED)
    elif name == "moderation_action":
        queryset = queryset.filter(
            Q(question__isnull=True) | Q(question__in=public_question_ids()),
            Q(answer__isnull=True) | Q(answer__in=public_answer_ids()),
            Q(comment__isnull=True) | Q(comment__in=public_comment_ids()),
            is_public=True,
        )
    return queryset, overrides


def format_timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def _json_line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def dump_header(*, public: bool, with_credentials: bool, site_url: str | None) -> dict:
    return {
        "type": "header",
        "format": FORMAT,
        "version": VERSION,
        "scope": "public" if public else "full",
        "with_credentials": with_credentials,
        "record_types": [t.name for t in RECORD_TYPES if t.in_public_dump or not public],
        "licence": LICENCE,
        "licence_url": LICENCE_URL,
        "attribution": {
            "site_name": SITE_NAME,
            "site_url": site_url,
            "how_to_attribute": (
                "Questions, answers and comments are licensed CC BY-SA 4.0 by their authors. "
                "When you reuse a post, name its authors: the author of the post and the author "
                "of each of its revisions (author_id of the question/answer record and of its "
                "revision records, resolved to the username of the user record); link to the "
                "post on the site (question: <site_url>questions/<id>/, answer: "
                "<site_url>questions/<question_id>/#answer-<id>); name the licence with a link "
                "to it; and say whether you changed the text."
            ),
        },
        "exported_at": format_timestamp(timezone.now()),
    }


def dump_lines(
    *, public: bool, with_credentials: bool = False, site_url: str | None = None
) -> Iterator[str]:
    """Yield the dump line by line (each ends in a newline). One query per record type; rows are
    streamed from a server-side cursor, so memory stays flat however large the site is."""
    if public and with_credentials:
        raise ValueError("The public dump never carries credentials.")
    yield _json_line(
        dump_header(public=public, with_credentials=with_credentials, site_url=site_url)
    )
    for record_type in RECORD_TYPES:
        if public and not record_type.in_public_dump:
            continue
        yield from _records(record_type, public=public, with_credentials=with_credentials)


def _records(record_type: RecordType, *, public: bool, with_credentials: bool) -> Iterator[str]:
    for record in _record_dicts(record_type, public=public, with_credentials=with_credentials):
        yield _json_line(record)


def public_records(name: str, pks: Iterable[int]) -> dict[int, dict]:
    """The public dump's records of one type for these ids, by id; an id the public dump leaves
    out is missing (the change feed serves it as a tombstone)."""
    records = _record_dicts(
        RECORD_TYPES_BY_NAME[name], public=True, with_credentials=False, pks=list(pks)
    )
    return {record["id"]: record for record in records}


def _record_dicts(
    record_type: RecordType, *, public: bool, with_credentials: bool, pks: list[int] | None = None
) -> Iterator[dict]:
    keys = record_type.keys(public=public)
    queryset = record_type.model._base_manager.order_by("pk")
    if pks is not None:
        queryset = queryset.filter(pk__in=pks)
    overrides: dict[str, Expression] = {}
    if public:
        queryset, overrides = _public_rows(record_type.name, queryset)
    computed = {
        key: NAME_LIST_EXPRESSIONS[(record_type.name, key)]()
        for key in record_type.name_lists
        if key in keys
    }
    computed.update(overrides)
    columns = [key for key in keys if key not in computed]
    if record_type.name == "user" and with_credentials:
        columns.append("password")
    queryset = queryset.annotate(**{f"dump_{key}": value for key, value in computed.items()})
    columns += [f"dump_{key}" for key in computed]
    for row in queryset.values(*columns).iterator(chunk_size=CHUNK_SIZE):
        record = {"type": record_type.name}
        for column, value in row.items():
            key = column.removeprefix("dump_")
            record[key] = format_timestamp(value) if isinstance(value, datetime) else value
        yield record


# --- Import ---------------------------------------------------------------------------------


def database_contents() -> dict[str, int]:
    """What a database holds that an import would collide with (empty: nothing)."""
    counts = {
        record_type.name: record_type.model._base_manager.count()
        for record_type in RECORD_TYPES
        if record_type.name != "user"
    }
    counts["user"] = User.objects.filter(is_system=False).count()
    return {name: count for name, count in counts.items() if count}


@contextmanager
def _timestamps_as_given():
    """Let bulk_create write the timestamps that the records carry.

    auto_now_add fields replace any value with now() in pre_save. Switching the flag off for the
    duration of the import puts the original timestamps into the INSERT itself, so no later
    UPDATE is needed (and Revision's append-only trigger would refuse one for created_at)."""
    switched = [
        model_field
        for model in DUMPED_MODELS
        for model_field in model._meta.concrete_fields
        if getattr(model_field, "auto_now_add", False) or getattr(model_field, "auto_now", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in switched]
    for model_field in switched:
        model_field.auto_now = model_field.auto_now_add = False
    try:
        yield
    finally:
        for model_field, auto_now, auto_now_add in saved:
            model_field.auto_now, model_field.auto_now_add = auto_now, auto_now_add


def _parse_timestamp(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("no time zone")
    return parsed


def _check_value(model_field: models.Field, value):
    """The value converted for the model field; ValueError says what is wrong with it."""
    if value is None:
        if not model_field.null:
            raise ValueError("may not be null")
        return None
    if isinstance(model_field, models.BooleanField):
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
    elif isinstance(model_field, models.DateTimeField):
        if not isinstance(value, str):
            raise ValueError("must be an ISO 8601 timestamp")
        try:
            value = _parse_timestamp(value)
        except ValueError as error:
            raise ValueError(f"must be an ISO 8601 timestamp with a time zone ({error})") from None
    elif isinstance(model_field, models.FloatField):
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValueError("must be a number")
    elif isinstance(model_field, models.IntegerField) or model_field.is_relation:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("must be an integer")
        column = model_field.target_field if model_field.is_relation else model_field
        low, high = connection.ops.integer_field_range(column.get_internal_type())
        if not (low is None or low <= value) or not (high is None or value <= high):
            raise ValueError(f"is out of range ({low} to {high})")
    elif isinstance(model_field, models.CharField | models.TextField):
        _check_text(value)
        if isinstance(model_field, models.CharField) and len(value) > model_field.max_length:
            raise ValueError(f"is longer than {model_field.max_length} characters")
    elif isinstance(model_field, ArrayField):
        if not isinstance(value, list):
            raise ValueError("must be a list of strings")
        for item in value:
            _check_text(item)
    elif isinstance(model_field, models.JSONField) and _contains_nul(value):
        raise ValueError("contains a NUL character, which Postgres cannot store")
    if model_field.name == "follow_ups" and not _follow_ups_well_formed(value):
        raise ValueError('must be a list of {"text": string, "question_id": id or null}')
    if model_field.choices and not (value == "" and model_field.blank):
        allowed = [choice for choice, _label in model_field.flatchoices]
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(map(str, allowed))}")
    return value


def _check_text(value) -> None:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    if "\x00" in value:
        raise ValueError("contains a NUL character, which Postgres cannot store")


def _contains_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(key) or _contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_contains_nul(item) for item in value)
    return False


def _follow_ups_well_formed(value) -> bool:
    return isinstance(value, list) and all(
        isinstance(item, dict)
        and set(item) == {"text", "question_id"}
        and isinstance(item["text"], str)
        and (item["question_id"] is None or type(item["question_id"]) is int)
        for item in value
    )


def _check_names(value) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ValueError("must be a list of names")
    for item in value:
        _check_text(item)
    return value


@dataclass
class _Batch:
    record_type: RecordType
    first_line: int = 0
    last_line: int = 0
    rows: list[models.Model] = field(default_factory=list)
    name_lists: list[dict[str, list[str]]] = field(default_factory=list)


class _Loader:
    """Reads records one by one, checks them and inserts them in batches of one type."""

    def __init__(self) -> None:
        self.counts = {record_type.name: 0 for record_type in RECORD_TYPES}
        self.tag_ids: dict[str, int] = {}
        self.group_ids: dict[str, int] = {}
        self.position = 0
        self.batch: _Batch | None = None

    def add(self, line_number: int, record: dict) -> None:
        name = record.get("type")
        record_type = RECORD_TYPES_BY_NAME.get(name) if isinstance(name, str) else None
        if record_type is None:
            known = ", ".join(RECORD_TYPES_BY_NAME)
            raise DumpError(f"line {line_number}: unknown record type {name!r} (known: {known}).")
        position = RECORD_TYPES.index(record_type)
        if position < self.position:
            raise DumpError(
                f"line {line_number}: a {name} record after {RECORD_TYPES[self.position].name} "
                f"records; record types must come in the order "
                f"{', '.join(RECORD_TYPES_BY_NAME)}."
            )
        if self.batch and (
            self.batch.record_type is not record_type or len(self.batch.rows) >= IMPORT_BATCH_SIZE
        ):
            self.flush()
        self.position = position
        row, name_lists = self._row(line_number, record_type, record)
        if self.batch is None:
            self.batch = _Batch(record_type, first_line=line_number)
        self.batch.rows.append(row)
        self.batch.name_lists.append(name_lists)
        self.batch.last_line = line_number

    def _row(
        self, line_number: int, record_type: RecordType, record: dict
    ) -> tuple[models.Model, dict[str, list[str]]]:
        expected = set(record_type.fields) | set(record_type.name_lists) | {"type"}
        optional = OPTIONAL_FIELDS.get(record_type.name, set())
        missing = sorted(expected - record.keys() - optional)
        unknown = sorted(record.keys() - expected - optional)
        if missing or unknown:
            problems = []
            if missing:
                problems.append(f"lacks {', '.join(missing)}")
            if unknown:
                problems.append(f"has unknown fields {', '.join(unknown)}")
            raise DumpError(
                f"line {line_number}: the {record_type.name} record {' and '.join(problems)}."
            )
        values = {}
        meta = record_type.model._meta
        for attname in record_type.fields:
            if attname not in record:  # an optional field (checked above): the model's default
                continue
            model_field = meta.get_field(attname)  # get_field knows "author_id" too
            try:
                values[attname] = _check_value(model_field, record[attname])
            except ValueError as error:
                raise DumpError(
                    f"line {line_number}: {record_type.name} field {attname} {error}."
                ) from None
        name_lists = {}
        for key in record_type.name_lists:
            try:
                name_lists[key] = _check_names(record[key])
            except ValueError as error:
                raise DumpError(
                    f"line {line_number}: {record_type.name} field {key} {error}."
                ) from None
        row = record_type.model(**values)
        if record_type.name == "user":
            password = record.get("password")
            if password is not None and not (isinstance(password, str) and password):
                raise DumpError(f"line {line_number}: user field password must be a string.")
            row.password = password or make_password(None)
        return row, name_lists

    def flush(self) -> None:
        batch, self.batch = self.batch, None
        if batch is None:
            return
        name = batch.record_type.name
        try:
            batch.record_type.model._base_manager.bulk_create(batch.rows)
            self._add_name_lists(batch)
        except (IntegrityError, DataError) as error:
            raise DumpError(
                f"lines {batch.first_line}-{batch.last_line} ({name} records): the database "
                f"refused them: {str(error).strip()}"
            ) from None
        self.counts[name] += len(batch.rows)

    def _add_name_lists(self, batch: _Batch) -> None:
        name = batch.record_type.name
        if name == "tag":
            aliases = []
            for tag, lists in zip(batch.rows, batch.name_lists, strict=True):
                self.tag_ids[tag.name] = tag.pk
                aliases += [TagAlias(tag_id=tag.pk, name=alias) for alias in lists["aliases"]]
            TagAlias.objects.bulk_create(aliases)
        elif name == "question":
            links = []
            for line, (question, lists) in enumerate(
                zip(batch.rows, batch.name_lists, strict=True), start=batch.first_line
            ):
                for tag_name in lists["tags"]:
                    if tag_name not in self.tag_ids:
                        raise DumpError(
                            f"line {line}: question {question.pk} has the tag {tag_name!r}, "
                            "which no tag record names."
                        )
                    links.append(
                        Question.tags.through(
                            question_id=question.pk, tag_id=self.tag_ids[tag_name]
                        )
                    )
            Question.tags.through.objects.bulk_create(links)
        elif name == "user":
            memberships = []
            for user, lists in zip(batch.rows, batch.name_lists, strict=True):
                for group_name in lists["groups"]:
                    if group_name not in self.group_ids:
                        group, _created = Group.objects.get_or_create(name=group_name)
                        self.group_ids[group_name] = group.pk
                    memberships.append(
                        User.groups.through(user_id=user.pk, group_id=self.group_ids[group_name])
                    )
            User.groups.through.objects.bulk_create(memberships)


def read_header(line: str) -> dict:
    try:
        header = json.loads(line)
    except json.JSONDecodeError as error:
        raise DumpError(f"line 1: not valid JSON ({error}).") from None
    if not isinstance(header, dict) or header.get("type") != "header":
        raise DumpError('line 1: the first line must be the header {"type": "header", ...}.')
    if header.get("format") != FORMAT:
        raise DumpError(f"line 1: not a {FORMAT} file (format is {header.get('format')!r}).")
    if header.get("version") != VERSION:
        raise DumpError(
            f"line 1: unsupported version {header.get('version')!r}; "
            f"this Mianjing reads version {VERSION}."
        )
    if header.get("scope") != "full":
        raise DumpError(
            f"line 1: this is a {header.get('scope')!r} dump; only a full dump (made by "
            "`manage.py export_kb`) can be imported."
        )
    return header


def dump_import(lines: Iterable[str]) -> dict[str, int]:
    """Load a full dump into an empty database, in one transaction; returns counts per type.

    Rows keep their ids and timestamps. Foreign keys are checked by Postgres at the end (Django
    makes them DEFERRABLE INITIALLY DEFERRED), so a question may name its accepted answer before
    the answer's line. Raises DumpError, and writes nothing, on any bad line or a non-empty
    database."""
    line_iter = iter(lines)
    first = next(line_iter, None)
    if first is None:
        raise DumpError("the file is empty; line 1 must be the header.")
    read_header(first.rstrip("\n"))
    with transaction.atomic():
        contents = database_contents()
        if contents:
            listed = ", ".join(f"{count} {name}" for name, count in contents.items())
            raise DumpError(
                f"the database is not empty ({listed}); import_kb loads a dump only into an "
                "empty database."
            )
        # A system account owns nothing yet (checked above); the dump brings its own.
        User.objects.filter(is_system=True).delete()
        loader = _Loader()
        with _timestamps_as_given():
            for line_number, line in enumerate(line_iter, start=2):
                text = line.rstrip("\n")
                if not text.strip():
                    raise DumpError(f"line {line_number}: empty line.")
                try:
                    record = json.loads(text)
                except json.JSONDecodeError as error:
                    raise DumpError(f"line {line_number}: not valid JSON ({error}).") from None
                if not isinstance(record, dict):
                    raise DumpError(f"line {line_number}: a record must be a JSON object.")
                loader.add(line_number, record)
            loader.flush()
        _reset_sequences()
        try:
            connection.check_constraints()
        except IntegrityError as error:
            raise DumpError(
                f"the records refer to rows the dump does not hold: {str(error).strip()}"
            ) from None
    return loader.counts


def _reset_sequences() -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), DUMPED_MODELS)
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
