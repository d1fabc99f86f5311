"""Error pages: the API answers in its JSON error shape, the site with templates."""

from django.http import JsonResponse
from django.shortcuts import render
from django.views import defaults

from kb.api_errors import error_body


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request, exception):
    if _is_api(request):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse(error_body("server_error", "Server error."), status=500)
    return defaults.server_error(request)


def bad_request(request, exception):
    if _is_api(request):
        return JsonResponse(error_body("bad_request", "Bad request."), status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if _is_api(request):
        return JsonResponse(error_body("permission_denied", "Permission denied."), status=403)
    # A rulebook refusal (kb.permissions.Refused) says why, and names its code for machines.
    context = {"reason": str(exception or ""), "refusal_code": getattr(exception, "code", "")}
    return render(request, "403.html", context, status=403)
