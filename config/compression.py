"""HTML compressed by the app when it is served directly (gunicorn without a proxy in front), and
never a page that shows a secret.

BREACH recovers a secret from the size of compressed responses that also reflect what an attacker
sends. Django's GZipMiddleware has, since 4.2, "Heal the Breach": a random-length filename in the
gzip header so that sizes vary between responses; and CSRF tokens are masked with a new random
pad on every response. What remains is a page that shows a long-lived secret next to reflected
input: the API token page, which shows a new token once. Its view marks the response with
`never_compress`, which this middleware honours. docs/seo.md says what to set at a proxy.
"""

from functools import wraps

from django.middleware.gzip import GZipMiddleware


def never_compress(view):
    """Send this view's responses uncompressed (they carry a secret)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.never_compress = True
        return response

    return wrapped


class CompressionMiddleware(GZipMiddleware):
    def process_response(self, request, response):
        if getattr(response, "never_compress", False):
            return response
        return super().process_response(request, response)
