"""The Locust users of `make loadtest` (bench/loadtest.py writes the plan and starts Locust).

Each Locust user is one of the plan's members and, in each task, does one thing picked by the
plan's mix: an anonymous read (no cookie, no token: the page cache's visitor), a search, a vote,
an answer, a comment or an edit (with the member's API token). Every request's kind, time and
status, and every write answered 2xx as the response described it, are written to the plan's
records file when Locust quits; bench/loadcheck.py then checks the writes are all there.

Not meant to be run by hand: MIANJING_LOADTEST_PLAN names the plan (JSON).
"""

import itertools
import json
import os
import random
import time
import uuid
from pathlib import Path

from locust import FastHttpUser, between, events, task

PLAN = json.loads(Path(os.environ["MIANJING_LOADTEST_PLAN"]).read_text(encoding="utf-8"))
RECORDS: dict[str, list] = {
    # [kind, milliseconds, status, page cache]; status 0: no response (connection error)
    "requests": [],
    "answers": [],
    "comments": [],
    "edits": [],
    "votes": [],
    "exceptions": [],
    "read_paths": [],
}
_read_paths: set[str] = set()
_members = iter(PLAN["members"])
_sequence = itertools.count()  # orders each member's votes (one Locust process: gevent)
_started = {}

ANSWER_TEXT = (
    "负载测试的回答：先说结论，再给出推导。注意力的计算量随序列长度平方增长，"
    "所以长上下文要用分块或稀疏注意力。\n\n```python\nscores = q @ k.T / d ** 0.5\n```\n\n"
)
COMMENT_TEXT = "负载测试评论：这里的复杂度分析可以再补充一下显存占用。"
EDIT_TEXT = "\n\n补充（负载测试编辑）：再强调一下边界条件。"


@events.test_start.add_listener
def _on_start(environment, **kwargs):
    _started["at"] = time.time()


@events.request.add_listener
def _on_request(name, response_time, response=None, exception=None, **kwargs):
    status = getattr(response, "status_code", 0) or 0
    headers = getattr(response, "headers", None) or {}
    # "hit" or "miss" from the anonymous page cache (kb/views/page_cache.py), else ""
    RECORDS["requests"].append(
        [name, round(response_time, 3), status, headers.get("X-Page-Cache", "")]
    )


@events.quitting.add_listener
def _on_quitting(environment, **kwargs):
    RECORDS["read_paths"] = sorted(_read_paths)
    RECORDS["started_at"] = _started.get("at")
    RECORDS["stopped_at"] = time.time()
    Path(PLAN["records_path"]).write_text(json.dumps(RECORDS), encoding="utf-8")


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class Member(FastHttpUser):
    wait_time = between(0, PLAN["think_seconds"] * 2)

    def on_start(self):
        member = next(_members)  # loadtest.py starts exactly one Locust user per member
        self.username = member["username"]
        self.auth = {"Authorization": f"Token {member['token']}", "Accept": "application/json"}
        self.rng = random.Random(member["username"])
        self.answers_posted: list[int] = []

    @task
    def one_thing(self):
        kind = _weighted(self.rng, PLAN["mix"])
        try:
            getattr(self, kind)()
        except Exception as error:  # a bug here, not a server answer: counted and reported
            RECORDS["exceptions"].append(f"{kind}: {type(error).__name__}: {error}")

    # --- anonymous reads and searches ---

    def read(self):
        page = _weighted(self.rng, PLAN["read_mix"])
        path = self.rng.choice(PLAN["read_paths"][page])
        _read_paths.add(path)
        self.client.get(path, name=f"read: {page}")

    def search(self):
        query = self.rng.choice(PLAN["queries"])
        if self.rng.random() < PLAN["search_api_share"]:
            self.client.get(f"/api/v1/search/?q={query}", name="search: api")
        else:
            self.client.get(f"/search/?q={query}", name="search: page")

    # --- members' writes, with their token ---

    def _post(self, purpose: str) -> tuple[str, int]:
        """What to vote on, comment on or edit: ("question" or "answer", id). A fifth of
        comments and edits go to the member's own answers from this run; votes never do (nobody
        votes on their own post)."""
        if purpose != "vote" and self.answers_posted and self.rng.random() < 0.2:
            return "answer", self.rng.choice(self.answers_posted)
        if self.rng.random() < 0.6:
            answer_id, _question_id = self.rng.choice(PLAN["answers"])
            return "answer", answer_id
        return "question", self.rng.choice(PLAN["questions"])

    def vote(self):
        kind, post_id = self._post("vote")
        url = f"/api/v1/{kind}s/{post_id}/vote/"
        roll = self.rng.random()
        if roll < PLAN["retract_share"]:
            response = self.client.delete(url, headers=self.auth, name="vote")
        else:
            value = -1 if roll < PLAN["retract_share"] + PLAN["downvote_share"] else 1
            response = self.client.post(url, json={"value": value}, headers=self.auth, name="vote")
        if response.status_code == 200:
            RECORDS["votes"].append(
                {"member": self.username, "kind": kind, "post_id": post_id,
                 "value": response.json()["vote"], "sequence": next(_sequence)}
            )  # fmt: skip

    def answer(self):
        question_id = self.rng.choice(PLAN["questions"])
        body = f"{ANSWER_TEXT}（{self.username} {uuid.uuid4().hex}）"
        response = self.client.post(
            f"/api/v1/questions/{question_id}/answers/",
            json={"body": body},
            headers=self.auth,
            name="answer",
        )
        if response.status_code == 201:
            created = response.json()
            self.answers_posted.append(created["id"])
            RECORDS["answers"].append(
                {"member": self.username, "id": created["id"], "question_id": question_id,
                 "body": body}
            )  # fmt: skip

    def comment(self):
        kind, post_id = self._post("comment")
        body = f"{COMMENT_TEXT}（{uuid.uuid4().hex[:12]}）"
        response = self.client.post(
            f"/api/v1/{kind}s/{post_id}/comments/", json={"body": body}, headers=self.auth,
            name="comment",
        )  # fmt: skip
        if response.status_code == 201:
            RECORDS["comments"].append(
                {"member": self.username, "id": response.json()["id"], "kind": kind,
                 "post_id": post_id, "body": body}
            )  # fmt: skip

    def edit(self):
        kind, post_id = self._post("edit")
        url = f"/api/v1/{kind}s/{post_id}/"
        current = self.client.get(
            url + "?fields=id,body,revision_count", headers=self.auth, name="edit: read base"
        )
        if current.status_code != 200:
            return
        post = current.json()
        marker = uuid.uuid4().hex
        response = self.client.patch(
            url,
            json={"base_revision": post["revision_count"], "body": f"{post['body']}{EDIT_TEXT}"
                  f"（{marker}）", "summary": "负载测试"},
            headers=self.auth,
            name="edit",
        )  # fmt: skip
        if response.status_code == 200:
            result = response.json()
            RECORDS["edits"].append(
                {"member": self.username, "kind": kind, "post_id": post_id, "marker": marker,
                 "number": result["revision"]["number"], "status": result["status"]}
            )  # fmt: skip
