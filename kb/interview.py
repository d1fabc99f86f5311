"""A question's interview fields: difficulty, a one-sentence answer, key points, common mistakes
and follow-up questions. They are part of every question revision (like title, body and tags), so
history, diffs, rollback and suggested edits cover them; this module types, validates, merges and
prints them. It holds no database access except the check that follow-ups point at questions."""

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

BASIC, INTERMEDIATE, ADVANCED = "basic", "intermediate", "advanced"
DIFFICULTIES = (BASIC, INTERMEDIATE, ADVANCED)
DIFFICULTY_CHOICES = [
    (BASIC, gettext_lazy("basic")),
    (INTERMEDIATE, gettext_lazy("intermediate")),
    (ADVANCED, gettext_lazy("advanced")),
]

SHORT_ANSWER_MAX = 600
ITEM_MAX = 400
ITEMS_MAX = 20
FOLLOW_UPS_MAX = 12

# Field names in the order pages, diffs and dumps show them.
FIELDS = ("difficulty", "short_answer", "key_points", "common_mistakes", "follow_ups")


def difficulty_label(value: str) -> str:
    return str(dict(DIFFICULTY_CHOICES).get(value, ""))


@dataclass(frozen=True)
class FollowUp:
    text: str
    question_id: int | None = None

    def as_dict(self) -> dict:
        return {"text": self.text, "question_id": self.question_id}


@dataclass(frozen=True)
class Interview:
    difficulty: str = ""
    short_answer: str = ""
    key_points: tuple[str, ...] = ()
    common_mistakes: tuple[str, ...] = ()
    follow_ups: tuple[FollowUp, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, row) -> "Interview":
        """The interview fields of a Question or a Revision row."""
        return cls(
            difficulty=row.difficulty,
            short_answer=row.short_answer,
            key_points=tuple(row.key_points or ()),
            common_mistakes=tuple(row.common_mistakes or ()),
            follow_ups=follow_ups_from_json(row.follow_ups),
        )

    def model_values(self) -> dict:
        """Column values for a Question or a Revision."""
        return {
            "difficulty": self.difficulty,
            "short_answer": self.short_answer,
            "key_points": list(self.key_points),
            "common_mistakes": list(self.common_mistakes),
            "follow_ups": [f.as_dict() for f in self.follow_ups],
        }

    @property
    def is_empty(self) -> bool:
        return self == Interview()


def follow_ups_from_json(value) -> tuple[FollowUp, ...]:
    return tuple(
        FollowUp(text=item["text"], question_id=item.get("question_id")) for item in value or ()
    )


def field_text(interview: Interview, name: str) -> str:
    """One field as plain text, one item a line: what diffs compare and the edit form shows."""
    if name == "difficulty":
        return interview.difficulty
    if name == "short_answer":
        return interview.short_answer
    if name == "follow_ups":
        return "\n".join(follow_up_line(f) for f in interview.follow_ups)
    return "\n".join(getattr(interview, name))


def follow_up_line(follow_up: FollowUp) -> str:
    return f"{follow_up.text} #{follow_up.question_id}" if follow_up.question_id else follow_up.text


_TRAILING_ID = re.compile(r"^(?P<text>.*?)\s*#(?P<id>\d{1,12})\s*$")


def parse_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def parse_follow_up_lines(text: str) -> list[dict]:
    """Edit-form follow-ups: one a line, optionally ending in `#<question id>`."""
    items = []
    for line in parse_lines(text):
        match = _TRAILING_ID.match(line)
        if match and match.group("text"):
            items.append({"text": match.group("text"), "question_id": int(match.group("id"))})
        else:
            items.append({"text": line, "question_id": None})
    return items


def _clean_items(name: str, value, errors: dict) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        errors[name] = [_("Give a list of texts.")]
        return ()
    items = tuple(" ".join(v.split()) for v in value if v.strip())
    if len(items) > ITEMS_MAX:
        errors[name] = [_("At most %(n)d items.") % {"n": ITEMS_MAX}]
    elif any(len(item) > ITEM_MAX for item in items):
        errors[name] = [_("Each item may be at most %(n)d characters.") % {"n": ITEM_MAX}]
    return items


def validate_interview(
    *,
    difficulty="",
    short_answer="",
    key_points=None,
    common_mistakes=None,
    follow_ups=None,
) -> Interview:
    """Typed, trimmed interview fields, or a ValidationError naming each bad field. Follow-ups
    that point at a question must point at one that exists (one query when any do)."""
    from kb.models import Question

    errors: dict[str, list[str]] = {}
    difficulty = difficulty or ""
    if difficulty not in ("", *DIFFICULTIES):
        errors["difficulty"] = [
            _("Choose one of: %(values)s.") % {"values": ", ".join(DIFFICULTIES)}
        ]
    if not isinstance(short_answer, str):
        errors["short_answer"] = [_("Give a text.")]
        short_answer = ""
    short_answer = short_answer.strip()
    if len(short_answer) > SHORT_ANSWER_MAX:
        errors["short_answer"] = [
            _("The short answer may be at most %(n)d characters.") % {"n": SHORT_ANSWER_MAX}
        ]
    points = _clean_items("key_points", key_points, errors)
    mistakes = _clean_items("common_mistakes", common_mistakes, errors)
    cleaned_follow_ups: list[FollowUp] = []
    for item in follow_ups or ():
        text = item.get("text") if isinstance(item, dict) else None
        target = item.get("question_id") if isinstance(item, dict) else None
        if not isinstance(text, str) or not text.strip():
            errors["follow_ups"] = [_("Each follow-up needs a text.")]
            break
        if target is not None and (isinstance(target, bool) or not isinstance(target, int)):
            errors["follow_ups"] = [_("A follow-up's question_id must be a number or null.")]
            break
        text = " ".join(text.split())
        if len(text) > ITEM_MAX:
            errors["follow_ups"] = [
                _("Each item may be at most %(n)d characters.") % {"n": ITEM_MAX}
            ]
            break
        cleaned_follow_ups.append(FollowUp(text=text, question_id=target))
    if follow_ups is not None and not isinstance(follow_ups, list | tuple):
        errors["follow_ups"] = [_("Give a list of follow-ups.")]
    if len(cleaned_follow_ups) > FOLLOW_UPS_MAX:
        errors["follow_ups"] = [_("At most %(n)d items.") % {"n": FOLLOW_UPS_MAX}]
    wanted = {f.question_id for f in cleaned_follow_ups if f.question_id is not None}
    if wanted and "follow_ups" not in errors:
        found = set(Question.objects.filter(pk__in=wanted).values_list("pk", flat=True))
        missing = sorted(wanted - found)
        if missing:
            errors["follow_ups"] = [
                _("No question #%(id)d to link the follow-up to.") % {"id": missing[0]}
            ]
    if errors:
        raise ValidationError(errors)
    return Interview(
        difficulty=difficulty,
        short_answer=short_answer,
        key_points=points,
        common_mistakes=mistakes,
        follow_ups=tuple(cleaned_follow_ups),
    )


def merge_interview(
    base: Interview, theirs: Interview, yours: Interview
) -> tuple[Interview, list[str]]:
    """Three-way merge field by field: a field changed on one side only takes that side; changed
    differently on both sides is a conflict (yours is kept for the form)."""
    merged, conflicts = {}, []
    for name in FIELDS:
        b, t, y = getattr(base, name), getattr(theirs, name), getattr(yours, name)
        if y in (b, t):
            merged[name] = t
        elif t == b:
            merged[name] = y
        else:
            merged[name] = y
            conflicts.append(name)
    return Interview(**merged), conflicts


FIELD_LABELS = {
    "difficulty": gettext_lazy("Difficulty"),
    "short_answer": gettext_lazy("Short answer"),
    "key_points": gettext_lazy("Key points"),
    "common_mistakes": gettext_lazy("Common mistakes"),
    "follow_ups": gettext_lazy("Follow-up questions"),
}


@dataclass(frozen=True)
class FieldChange:
    name: str
    label: str
    old_text: str
    new_text: str
    inline_html: str

    @property
    def changed(self) -> bool:
        return self.old_text != self.new_text


def interview_diff_of(old_row, new: Interview) -> list[FieldChange]:
    """Each interview field of a revision against `new`, changed or not, with an inline diff of
    the changed ones (one item a line)."""
    from kb.diff import inline_diff_html

    old = Interview.of(old_row)
    changes = []
    for name in FIELDS:
        old_text, new_text = field_text(old, name), field_text(new, name)
        if name == "difficulty":
            old_text, new_text = difficulty_label(old_text), difficulty_label(new_text)
        changes.append(
            FieldChange(
                name=name,
                label=str(FIELD_LABELS[name]),
                old_text=old_text,
                new_text=new_text,
                inline_html=inline_diff_html(old_text, new_text) if old_text != new_text else "",
            )
        )
    return changes


def interview_diff(old_row, new_row) -> list[FieldChange]:
    return interview_diff_of(old_row, Interview.of(new_row))
