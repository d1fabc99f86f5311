"""Chinese typography of the interface, in every string of the zh catalogue: full-width
punctuation (，：；？！（）) beside Chinese text, and a space between Chinese and Latin words."""

import gettext
import re

import pytest
from django.conf import settings

HAN = r"[\u4e00-\u9fff]"
# What is not prose: placeholders, HTML tags, code, Markdown link targets, URLs, entities, formulas.
NOT_PROSE = re.compile(
    r"%\([a-z_]+\)[sd]\??|%[sd]|<[^>]*>|`[^`]*`|\]\([^)]*\)|https?://\S+|&[a-z]+;|\$[^$]*\$"
)
HALF_WIDTH_BESIDE_HAN = re.compile(rf"{HAN}\s*[,:;?!()]|[,:;?!()]\s*{HAN}")
LATIN_TOUCHING_HAN = re.compile(rf"{HAN}[A-Za-z0-9]|[A-Za-z0-9]{HAN}")


def chinese_strings() -> dict[str, str]:
    path = settings.BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo"
    with open(path, "rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)._catalog
    strings = {}
    for msgid, msgstr in catalogue.items():
        text = msgstr if isinstance(msgstr, str) else "".join(msgstr)
        key = msgid if isinstance(msgid, str) else msgid[0]
        if key and re.search(HAN, text):
            strings[key] = NOT_PROSE.sub(" ", text)
    return strings


def test_the_catalogue_has_chinese_strings_to_check():
    assert len(chinese_strings()) > 300


@pytest.mark.parametrize(
    ("text", "wrong"),
    [("有了账号,你就可以", True), ("已有账号?", True), ("搜索结果:13 个", True),
     ("授权;转载", True), ("大模型(LLM)", True), ("有了账号，你就可以", False),
     ("例如：llm, normalization", False)],
)  # fmt: skip
def test_the_punctuation_rule_catches_what_the_issue_found(text, wrong):
    assert bool(HALF_WIDTH_BESIDE_HAN.search(text)) is wrong


def test_chinese_strings_use_full_width_punctuation():
    offenders = {
        msgid: text for msgid, text in chinese_strings().items()
        if HALF_WIDTH_BESIDE_HAN.search(text)
    }  # fmt: skip
    assert offenders == {}


def test_chinese_and_latin_words_are_spaced():
    offenders = {
        msgid: text for msgid, text in chinese_strings().items()
        if LATIN_TOUCHING_HAN.search(text)
    }  # fmt: skip
    assert offenders == {}


@pytest.mark.parametrize(
    ("msgid", "english"),
    [
        ("You withdrew your accept.", "You withdrew your acceptance."),
        ("Marked %(n)d items read.", "Marked %(n)d items as read."),
        (
            "This link does not work any more: it was used already or it is too old.",
            "This link no longer works: it has already been used, or it has expired.",
        ),
    ],
)
def test_the_english_catalogue_rewords_awkward_msgids(msgid, english):
    """English wording is fixed in the en catalogue, so code and the zh catalogue keep their
    msgids."""
    from django.utils import translation

    with translation.override("en"):
        assert translation.gettext(msgid) == english
