"""What no request may do to the database (issue 12): carry a NUL byte in its path or query
(PostgreSQL cannot store or compare one), nest JSON deeper than a parser's recursion, or run a
statement past the per-request `statement_timeout` (a 503 with the API's error shape instead)."""

from urllib.parse import unquote_to_bytes

from django.db import OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from kb.api_errors import error_body

try:  # psycopg 3
    from psycopg.errors import QueryCanceled
except ImportError:  # pragma: no cover - psycopg2
    from psycopg2.errors import QueryCanceled  # type: ignore[no-redef]


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _error(request, status: int, code: str, message: str):
    if _is_api(request):
        return JsonResponse(error_body(code, message), status=status)
    response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    if status == 503:
        response["Retry-After"] = "5"
    return response


def has_nul(request) -> bool:
    query = request.META.get("QUERY_STRING", "")
    return "\x00" in request.path or b"\x00" in unquote_to_bytes(query)


def query_was_cancelled(exception: BaseException) -> bool:
    """A statement stopped by statement_timeout (PostgreSQL's query_canceled, 57014)."""
    return isinstance(exception, OperationalError) and isinstance(
        exception.__cause__, QueryCanceled
    )


class RequestGuardMiddleware:
    """Refuses NUL bytes in the path or query with a 400 before any view reads them; turns a
    statement cancelled by the per-request timeout into a 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if has_nul(request):
            return _error(
                request, 400, "invalid", _("The address may not contain a NUL character.")
            )
        return self.get_response(request)

    def process_exception(self, request, exception):
        if query_was_cancelled(exception):
            response = _error(
                request,
                503,
                "timeout",
                _("The request took too long and was stopped. Try again or narrow it."),
            )
            response["Retry-After"] = "5"
            return response
        return None
