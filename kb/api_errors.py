"""One error shape for every API error: {"error": {"code", "message", "fields"}}."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def _flatten(detail) -> list[str]:
    if isinstance(detail, list):
        return [str(item) for sub in detail for item in _flatten(sub)]
    if isinstance(detail, dict):
        return [str(item) for sub in detail.values() for item in _flatten(sub)]
    return [str(detail)]


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def exception_handler(exc, context):
    retry_at = getattr(exc, "retry_at", None)  # kb.services.rate_limits.RateLimited
    if retry_at is not None:
        response = drf_exception_handler(exceptions.Throttled(wait=exc.retry_after), context)
        response.data = error_body(exc.limit_code, exc.text)
        response.data["error"]["retry_at"] = retry_at.isoformat()
        return response
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            exc = exceptions.ValidationError(exc.message_dict)
        else:
            exc = exceptions.ValidationError({"non_field_errors": exc.messages})
    elif isinstance(exc, DjangoPermissionDenied):
        # A rulebook refusal (kb.permissions.Refused) names its reason: "suspended", ...
        exc = exceptions.PermissionDenied(str(exc) or None, getattr(exc, "code", None))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real 500: let Django log it and answer with the handler500 body
    detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
    fields: dict = {}
    if isinstance(exc, exceptions.ValidationError) and isinstance(detail, dict):
        fields = {name: _flatten(value) for name, value in detail.items()}
        message = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in fields.items())
    else:
        message = " ".join(_flatten(detail))
    code = getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.PermissionDenied) and isinstance(detail, str):
        code = getattr(detail, "code", None) or code
    if isinstance(exc, exceptions.ValidationError):
        code = "invalid"
    response.data = error_body(code, message, fields)
    return response
