"""/data/ and `export_kb --public --gzip`: the gzipped public dump with its size, date and
SHA-256, served from the page; a browser reads the page at phone width in both languages."""

import gzip
import hashlib
import json

import pytest
from django.core.management import call_command

from kb.dump import dump_lines
from tests.factories import answer_make, question_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def dump_path(settings, tmp_path):
    settings.PUBLIC_DUMP_PATH = tmp_path / "dumps" / "mianjing-public.jsonl.gz"
    return settings.PUBLIC_DUMP_PATH


def test_page_before_any_export(client, dump_path, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        response = client.get("/data/")
    assert response.status_code == 200
    assert "export_kb --public --gzip" in response.content.decode()
    assert client.get(f"/data/{dump_path.name}").status_code == 404


def test_export_serves_the_public_dump_with_its_facts(client, dump_path):
    question = question_make(title="数据页的示例问题:能下载吗?")
    answer_make(question=question)
    call_command("export_kb", "--public", "--gzip")
    raw = dump_path.read_bytes()
    lines = gzip.decompress(raw).decode().splitlines(keepends=True)
    expected = list(dump_lines(public=True, site_url="http://127.0.0.1:8000/"))
    assert lines[1:] == expected[1:]  # the header differs only in exported_at
    page = client.get("/data/").content.decode()
    assert hashlib.sha256(raw).hexdigest() in page
    assert str(len(expected) - 1) in page  # records
    assert "数据页的示例问题" in page  # the sample
    download = client.get(f"/data/{dump_path.name}")
    assert download.status_code == 200 and download["Content-Type"] == "application/gzip"
    assert b"".join(download.streaming_content) == raw
    english = client.get("/en/data/").content.decode()
    assert "Licence and attribution" in english and "CC BY-SA 4.0" in english
    description = json.loads((dump_path.parent / (dump_path.name + ".json")).read_text())
    assert description["size"] == len(raw)
