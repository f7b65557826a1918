"""Headers on every response and per-address rate limits.

HeadersMiddleware adds what neither Django nor django-csp sets: Permissions-Policy and
Cross-Origin-Resource-Policy, and the strictest policy on downloads. RateLimitMiddleware counts, per client address (django-ratelimit, in the
`ratelimit` cache): sign-in POSTs (LOGIN_RATE), POSTs to the API token page (TOKEN_RATE), and API requests
that fail authentication (API_AUTH_FAIL_RATE). Past a limit the answer is 429 with Retry-After; for the
API, every request from that address until the window ends, so a flood stops reaching the token lookup.
This is independent of django-axes, which locks an account (by user name) after failed passwords."""

from __future__ import annotations

import ipaddress
import time

from django.conf import settings
from django.core.cache import caches
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage

# view name -> the setting with its rate; only POSTs count
FORM_LIMITS = {"login": "LOGIN_RATE", "tokens": "TOKEN_RATE"}
API_PREFIX = "/api/"
DOWNLOAD_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or with PROXY_HOPS = n trusted proxies in front, the n-th
    X-Forwarded-For entry from the right (the address the outermost trusted proxy saw; anything left of
    it came from the client and may be forged)."""
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"
    hops = settings.PROXY_HOPS
    if hops <= 0:
        return remote
    chain = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    if len(chain) < hops:
        return remote
    try:
        return str(ipaddress.ip_address(chain[-hops]))
    except ValueError:
        return remote


class HeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.headers.get("Content-Disposition", "").startswith("attachment"):
            # a download (evidence, reports, exports) is never a page: if a browser renders it anyway, it
            # runs sandboxed and loads nothing
            response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


def _blocked_key(ip: str) -> str:
    return f"ccinspect:api-auth-blocked:{ip}"


def _retry_after(usage) -> int:
    return max(1, int(usage.get("time_left") or 1))


class RateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        cache = caches[settings.RATELIMIT_USE_CACHE]
        ip = client_ip(request)
        until = cache.get(_blocked_key(ip))
        if until is not None and until > time.time():
            return self._api_too_many(max(1, round(until - time.time())))
        response = self.get_response(request)
        if response.status_code == 401:
            usage = get_usage(request, group="api-auth-fail", key="ip", rate=settings.API_AUTH_FAIL_RATE,
                              increment=True)
            if usage and usage["should_limit"]:
                seconds = _retry_after(usage)
                cache.set(_blocked_key(ip), time.time() + seconds, timeout=seconds)
                return self._api_too_many(seconds)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or request.resolver_match is None:
            return None
        setting = FORM_LIMITS.get(request.resolver_match.view_name)
        if setting is None:
            return None
        usage = get_usage(request, group=request.resolver_match.view_name, key="ip",
                          rate=getattr(settings, setting), method="POST", increment=True)
        if usage and usage["should_limit"]:
            seconds = _retry_after(usage)
            response = render(request, "security/ratelimited.html", {"retry_after": seconds}, status=429)
            response["Retry-After"] = str(seconds)
            return response
        return None

    @staticmethod
    def _api_too_many(seconds: int):
        response = JsonResponse({"detail": _("Too many failed authentications from your address. "
                                             "Try again in %(seconds)d s.") % {"seconds": seconds}}, status=429)
        response["Retry-After"] = str(seconds)
        return response
