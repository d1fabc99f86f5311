"""docs/api.md's Python client, run as written against a live test server: reading and paging,
a conditional request, following the change feed and posting an answer with a token."""

import re
from pathlib import Path

import pytest
from django.core.cache import cache

from accounts.services import token_create
from kb.models import Answer
from tests.factories import UserFactory, answer_make, question_make

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def python_example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, "docs/api.md has one Python example"
    return blocks[0]


@pytest.mark.django_db(transaction=True)
def test_the_python_example_runs(live_server, monkeypatch, capsys, settings):
    cache.clear()
    settings.SITE_URL = live_server.url
    for n in range(3):
        question = question_make(title=f"示例问题 {n}：能读到吗？")
        answer_make(question=question)
    member = UserFactory(reputation=1000)
    _, key = token_create(user=member, name="example")
    monkeypatch.setenv("MIANJING_URL", live_server.url)
    monkeypatch.setenv("MIANJING_TOKEN", key)
    exec(compile(python_example(), str(DOC), "exec"), {"__name__": "example"})  # noqa: S102
    out = capsys.readouterr().out
    assert "3 questions" in out
    assert "unchanged: True" in out
    mirrored = int(re.search(r"mirror holds (\d+) records", out).group(1))
    assert mirrored == 7  # 3 questions, 3 answers and their tag (the new answer comes after)
    posted = Answer.objects.get(author=member)
    link = f"{live_server.url}/questions/{posted.question_id}/#answer-{posted.pk}"
    assert f"answered: 201 {link}" in out
    cache.clear()
