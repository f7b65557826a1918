"""A request body far over the upload limit is refused from its Content-Length, before Django's multipart
parser (or the CSRF check, which reads the form) touches a byte of it: 413 with a message in the user's
language, JSON for the API. (gunicorn's sync workers close the connection after the response, so the unread
rest of the body is never taken in.) Bodies within the limit are parsed as usual and each file is then checked by
`evidence.read_upload` / `evidence.classify`."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.html import escape
from django.utils.translation import gettext as _

# room for the multipart envelope and the form's other fields around the largest accepted file
ENVELOPE = 1024 * 1024


def max_body() -> int:
    return settings.EVIDENCE_MAX_BYTES + ENVELOPE


class UploadLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > max_body():
            return refuse(request)
        return self.get_response(request)


def refuse_message() -> str:
    return _("The upload is larger than the limit of %(mb)s MB; nothing was stored.") % {
        "mb": f"{settings.EVIDENCE_MAX_BYTES / (1024 * 1024):g}"}


def refuse(request) -> HttpResponse:
    message = refuse_message()
    if request.path.startswith("/api/"):
        resp = JsonResponse({"detail": message}, status=413)
    else:
        resp = HttpResponse(f'<!doctype html><meta charset="utf-8"><title>413</title><p id="upload-refused">'
                            f'{escape(message)}</p>', status=413, content_type="text/html; charset=utf-8")
    return resp
