"""The API's JSON parser: JSON nested too deeply is a 400 like any malformed body (issue 12)."""

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    """JSON nested deeper than JSON_MAX_DEPTH (or deep enough to exhaust Python's recursion) is
    a 400 ParseError, like any other malformed body."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError(_("JSON nested too deeply.")) from error
        if _depth_exceeds(data, settings.JSON_MAX_DEPTH):
            raise ParseError(_("JSON nested too deeply."))
        return data


def _depth_exceeds(data, limit: int) -> bool:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return False
