"""What the OpenAPI schema says beyond each view's own annotations (issue 12): every operation
documents the error responses the API gives, all in the one error shape of kb/api_errors.py."""

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
                "retry_at": {"type": "string", "format": "date-time"},
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}

ERRORS = {
    "400": "Bad input: the field errors say what.",
    "401": "Not logged in (no or a bad token).",
    "403": "Refused by the rules: the code says why.",
    "404": "No such thing, or hidden from you.",
    "405": "Method not allowed.",
    "409": "Conflict with the current state (an edit conflict, a vote that is locked in).",
    "413": "The request body is too large.",
    "429": "Too many requests; Retry-After says when to try again.",
    "503": "The request took too long and was stopped.",
}


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: the error responses on every operation."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status, description in ERRORS.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result
