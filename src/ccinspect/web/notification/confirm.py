"""The hosted confirmation page: a separate process (`ccinspect web confirm-page`, WSGI entry
`ccinspect.web.notification.confirm:application`) that serves only this page, never the evidence server's.

The customer enters the code from the message (no link needed), sees the login's time and rough place and
answers. A wrong, used or expired code shows the same page as no code at all: a stranger learns nothing.
Every request counts against a per-address rate limit (CCINSPECT_CONFIRM_RATE)."""

from __future__ import annotations

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.shortcuts import render
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import get_usage

from ccinspect.notification import contract

from . import services as svc
from .models import Notification


def _limited(request) -> bool:
    usage = get_usage(request, group="notification-confirm", key="ip", rate=settings.CONFIRM_RATE, increment=True)
    return bool(usage and usage["should_limit"])


def _valid(code: str) -> Notification | None:
    if not code or len(code) > 64:
        return None
    n = Notification.objects.filter(token_digest=contract.token_digest(code)).first()
    if n is None or n.answer or n.expired:
        return None
    return n


@require_http_methods(["GET", "HEAD", "POST"])
def confirm_page(request):
    if _limited(request):
        return render(request, "notification/confirm.html", {"state": "limited"}, status=429)
    if request.method != "POST":
        return render(request, "notification/confirm.html", {"state": "ask"})
    code = request.POST.get("code", "").strip()
    n = _valid(code)
    if n is None:
        # the same words for a wrong, used or expired code
        return render(request, "notification/confirm.html", {"state": "invalid"}, status=404)
    answer = request.POST.get("answer", "")
    if answer not in contract.ANSWERS:
        return render(request, "notification/confirm.html", {
            "state": "show", "code": code, "login_at": n.login_at, "place": n.place,
            "expires_at": n.expires_at})
    try:
        svc.answer(code, answer, via="page")
    except svc.AnswerRefused:
        return render(request, "notification/confirm.html", {"state": "invalid"}, status=404)
    return render(request, "notification/confirm.html", {"state": "done", "answer": answer, "now": timezone.now()})


urlpatterns = [path("", confirm_page, name="notification_confirm"),
               path("i18n/", include("django.conf.urls.i18n"))]


class ConfirmHandler(WSGIHandler):
    """Django with this module as the URLconf: the process answers nothing but the confirmation page."""

    def get_response(self, request):
        request.urlconf = __name__
        return super().get_response(request)


def get_application():
    import django

    django.setup(set_prefix=False)
    return ConfirmHandler()


def _application():
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccinspect.web.settings")
    return get_application()
