"""Starter content: tags.toml and one Markdown file per question in questions/.

A question file starts with TOML front matter between `+++` lines (title, tags, and the question's
body as `body`); the rest of the file is the answer. Several answers are separated by a line that
holds only `<!-- answer -->`.
"""

import tomllib
from dataclasses import dataclass
from pathlib import Path

STARTER_DIR = Path(__file__).resolve().parent
ANSWER_SEPARATOR = "<!-- answer -->"


@dataclass(frozen=True)
class StarterQuestion:
    path: Path
    title: str
    body: str
    tags: list[str]
    answers: list[str]


@dataclass(frozen=True)
class StarterTag:
    name: str
    description: str
    aliases: list[str]


def starter_tags(directory: Path = STARTER_DIR) -> list[StarterTag]:
    data = tomllib.loads((directory / "tags.toml").read_text(encoding="utf-8"))
    return [
        StarterTag(name=name, description=entry["description"], aliases=entry.get("aliases", []))
        for name, entry in data["tags"].items()
    ]


def parse_question_file(path: Path) -> StarterQuestion:
    text = path.read_text(encoding="utf-8")
    _before, front, rest = text.split("+++\n", 2)
    meta = tomllib.loads(front)
    answers = [part.strip("\n") for part in rest.split(f"\n{ANSWER_SEPARATOR}\n") if part.strip()]
    if not answers:
        raise ValueError(f"{path.name}: no answer")
    return StarterQuestion(
        path=path,
        title=meta["title"],
        body=meta["body"].strip(),
        tags=meta["tags"],
        answers=answers,
    )


def starter_questions(directory: Path = STARTER_DIR) -> list[StarterQuestion]:
    return [parse_question_file(path) for path in sorted((directory / "questions").glob("*.md"))]
