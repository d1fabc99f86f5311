"""Starter content: tags.toml and one Markdown file per question in questions/.

A question file starts with TOML front matter between `+++` lines; the rest of the file is the
answer. Several answers are separated by a line that holds only `<!-- answer -->`. Front matter:

    title = "…"
    tags = ["llm", "attention"]
    body = '''…'''                          # the question's text
    difficulty = "intermediate"             # basic | intermediate | advanced
    short_answer = "…"                      # 一句话回答
    key_points = ["…", "…"]                 # 得分点
    common_mistakes = ["…", "…"]            # 常见误区
    follow_ups = [ { text = "…", ref = "05-mqa-vs-mha-gqa" }, { text = "…" } ]

A follow-up's `ref` is the file stem of another starter question; the loader resolves it to that
question's id once all are loaded (kb.services.starter).
"""

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

STARTER_DIR = Path(__file__).resolve().parent
ANSWER_SEPARATOR = "<!-- answer -->"
INTERVIEW_KEYS = ("difficulty", "short_answer", "key_points", "common_mistakes", "follow_ups")


@dataclass(frozen=True)
class StarterFollowUp:
    text: str
    ref: str | None = None  # the file stem of another starter question


@dataclass(frozen=True)
class StarterQuestion:
    path: Path
    title: str
    body: str
    tags: list[str]
    answers: list[str]
    difficulty: str = ""
    short_answer: str = ""
    key_points: list[str] = field(default_factory=list)
    common_mistakes: list[str] = field(default_factory=list)
    follow_ups: list[StarterFollowUp] = field(default_factory=list)

    @property
    def stem(self) -> str:
        return self.path.stem


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
    known = {"title", "tags", "body", *INTERVIEW_KEYS}
    unknown = sorted(set(meta) - known)
    if unknown:
        raise ValueError(f"{path.name}: unknown front matter keys {', '.join(unknown)}")
    follow_ups = []
    for entry in meta.get("follow_ups", []):
        if not isinstance(entry, dict) or set(entry) - {"text", "ref"} or "text" not in entry:
            raise ValueError(f'{path.name}: a follow-up is {{ text = "…", ref = "stem" }}')
        follow_ups.append(StarterFollowUp(text=entry["text"].strip(), ref=entry.get("ref")))
    return StarterQuestion(
        path=path,
        title=meta["title"],
        body=meta["body"].strip(),
        tags=meta["tags"],
        answers=answers,
        difficulty=meta.get("difficulty", ""),
        short_answer=meta.get("short_answer", "").strip(),
        key_points=[p.strip() for p in meta.get("key_points", [])],
        common_mistakes=[m.strip() for m in meta.get("common_mistakes", [])],
        follow_ups=follow_ups,
    )


def starter_questions(directory: Path = STARTER_DIR) -> list[StarterQuestion]:
    return [parse_question_file(path) for path in sorted((directory / "questions").glob("*.md"))]
