"""The interface language: Traditional Chinese for everyone until the user picks another with the switch.

Django's LocaleMiddleware would follow the browser's Accept-Language, so an English-language browser in
Taipei would get English pages. Here the only inputs are the language cookie that the switch in the header
(`django.views.i18n.set_language`) sets, and settings.LANGUAGE_CODE otherwise."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


def chosen_language(request) -> str:
    """The language the user chose with the switch, if it is one we offer; else the default (zh-Hant)."""
    code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if code:
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            pass
    return settings.LANGUAGE_CODE


class LanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = chosen_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
