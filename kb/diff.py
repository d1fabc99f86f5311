"""Revision diffs that work for Chinese: text is split into rjieba words (Chinese has no spaces),
latin words, whitespace and punctuation; a formula ($…$ or $$…$$) is one token, so a changed
formula shows as one deleted and one inserted unit, marked `diff-math`."""

import difflib
import html
import re
from dataclasses import dataclass

import rjieba

_MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+?\$", re.DOTALL)


def tokenize(text: str) -> list[str]:
    """Tokens that join back to the text exactly."""
    tokens: list[str] = []
    position = 0
    for match in _MATH.finditer(text):
        tokens.extend(rjieba.cut(text[position : match.start()]))
        tokens.append(match.group(0))
        position = match.end()
    tokens.extend(rjieba.cut(text[position:]))
    return [token for token in tokens if token]


def _span(kind: str, text: str) -> str:
    if not text:
        return ""
    tag = "ins" if kind == "insert" else "del"
    math = " diff-math" if _MATH.search(text) else ""
    return f'<{tag} class="diff-{kind}{math}">{html.escape(text)}</{tag}>'


def inline_diff_html(old: str, new: str) -> str:
    """One text with deletions and insertions marked, token by token within the lines that
    changed: lines are matched first, so a small edit of a long post costs little (matching
    every token of two 2,000-character posts took milliseconds)."""
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    parts: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(html.escape("".join(old_lines[i1:i2])))
        else:
            parts.append(_tokens_diff_html("".join(old_lines[i1:i2]), "".join(new_lines[j1:j2])))
    return "".join(parts)


def _tokens_diff_html(old: str, new: str) -> str:
    old_tokens, new_tokens = tokenize(old), tokenize(new)
    matcher = difflib.SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    parts: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        removed, added = "".join(old_tokens[i1:i2]), "".join(new_tokens[j1:j2])
        if op == "equal":
            parts.append(html.escape(removed))
        else:
            parts.append(_span("delete", removed))
            parts.append(_span("insert", added))
    return "".join(parts)


@dataclass(frozen=True)
class SideBySideRow:
    kind: str  # equal, replace, delete, insert
    old_html: str
    new_html: str
    old_number: int | None
    new_number: int | None


def side_by_side_rows(old: str, new: str, *, context: int | None = None) -> list[SideBySideRow]:
    """Line pairs for a two-column diff; changed line pairs get token-level marks inside."""
    old_lines, new_lines = old.split("\n"), new.split("\n")
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    rows: list[SideBySideRow] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for offset, line in enumerate(old_lines[i1:i2]):
                rows.append(SideBySideRow("equal", html.escape(line), html.escape(line),
                                          i1 + offset + 1, j1 + offset + 1))  # fmt: skip
            continue
        old_chunk, new_chunk = old_lines[i1:i2], new_lines[j1:j2]
        for k in range(max(len(old_chunk), len(new_chunk))):
            old_line = old_chunk[k] if k < len(old_chunk) else None
            new_line = new_chunk[k] if k < len(new_chunk) else None
            if old_line is not None and new_line is not None:
                marked = _paired_line_html(old_line, new_line)
                rows.append(SideBySideRow("replace", marked[0], marked[1], i1 + k + 1, j1 + k + 1))
            elif old_line is not None:
                rows.append(
                    SideBySideRow("delete", _span("delete", old_line), "", i1 + k + 1, None)
                )
            else:
                rows.append(
                    SideBySideRow("insert", "", _span("insert", new_line), None, j1 + k + 1)
                )
    return _with_context(rows, context) if context is not None else rows


def _paired_line_html(old: str, new: str) -> tuple[str, str]:
    old_tokens, new_tokens = tokenize(old), tokenize(new)
    matcher = difflib.SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    left: list[str] = []
    right: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        removed, added = "".join(old_tokens[i1:i2]), "".join(new_tokens[j1:j2])
        if op == "equal":
            left.append(html.escape(removed))
            right.append(html.escape(added))
        else:
            left.append(_span("delete", removed))
            right.append(_span("insert", added))
    return "".join(left), "".join(right)


def _with_context(rows: list[SideBySideRow], context: int) -> list[SideBySideRow]:
    """Keep changed rows and `context` unchanged rows around them; a None row marks a gap."""
    changed = [i for i, row in enumerate(rows) if row.kind != "equal"]
    keep = {j for i in changed for j in range(i - context, i + context + 1)}
    kept: list[SideBySideRow] = []
    for i, row in enumerate(rows):
        if i in keep:
            if kept and i - 1 not in keep:
                kept.append(SideBySideRow("gap", "…", "…", None, None))
            kept.append(row)
    return kept


def tags_diff(old: list[str], new: list[str]) -> dict[str, list[str]]:
    return {
        "removed": [t for t in old if t not in new],
        "added": [t for t in new if t not in old],
        "kept": [t for t in new if t in old],
    }


def revision_diff(old, new) -> dict:
    """Everything a client needs to show the change from revision `old` to `new`."""
    return {
        "from": old.number,
        "to": new.number,
        "title": {"old": old.title, "new": new.title,
                  "inline_html": inline_diff_html(old.title, new.title)},
        "body": {
            "inline_html": inline_diff_html(old.body, new.body),
            "side_by_side": [
                {"kind": row.kind, "old_html": row.old_html, "new_html": row.new_html,
                 "old_line": row.old_number, "new_line": row.new_number}
                for row in side_by_side_rows(old.body, new.body, context=3)
            ],
        },
        "tags": tags_diff(list(old.tags), list(new.tags)),
        "interview": _interview_changes(old, new),
    }  # fmt: skip


def revision_changed_fields(old, new) -> list[str]:
    """The labels of the fields revision `new` changed from `old`, in the order the post shows
    them: title, tags and body, then a question's interview fields (kb.interview)."""
    from django.utils.translation import gettext

    from kb.interview import FIELD_LABELS, Interview, field_text

    changed = []
    if new.question_id and old.title != new.title:
        changed.append(gettext("Title"))
    if new.question_id and list(old.tags) != list(new.tags):
        changed.append(gettext("Tags"))
    if old.body != new.body:
        changed.append(gettext("Body"))
    if new.question_id:
        before, after = Interview.of(old), Interview.of(new)
        changed += [
            str(label)
            for name, label in FIELD_LABELS.items()
            if field_text(before, name) != field_text(after, name)
        ]
    return changed


def _interview_changes(old, new) -> list[dict]:
    """The question's interview fields that changed (kb.interview), each with an inline diff."""
    if not new.question_id:
        return []
    from kb.interview import interview_diff

    return [
        {"field": c.name, "old": c.old_text, "new": c.new_text, "inline_html": c.inline_html}
        for c in interview_diff(old, new)
        if c.changed
    ]
