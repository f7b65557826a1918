"""Traditional Chinese is the default whatever the browser asks for; English only after the switch."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from .conftest import login_client

EN = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


@pytest.fixture
def zh_default(settings):
    settings.LANGUAGE_CODE = "zh-hant"  # the conftest switches the tests to English; this is the real default


def _switch(client, language, next_url="/accounts/login/"):
    r = client.post("/i18n/setlang/", {"language": language, "next": next_url}, **EN)
    assert r.status_code == 302
    assert r.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == language


@pytest.mark.django_db
def test_english_browser_gets_chinese_until_it_switches(client, zh_default):
    r = client.get("/accounts/login/", **EN)
    body = r.content.decode()
    assert '<html lang="zh-Hant-TW">' in body and "<h1>登入</h1>" in body
    assert r["Content-Language"] == "zh-hant"
    _switch(client, "en")
    r = client.get("/accounts/login/", **EN)
    assert '<html lang="en">' in r.content.decode() and "<h1>Sign in</h1>" in r.content.decode()
    _switch(client, "zh-hant")
    assert "<h1>登入</h1>" in client.get("/accounts/login/", **EN).content.decode()


def test_signed_in_pages_follow_the_choice_not_the_browser(client, world, zh_default):
    login_client(client, world.officer)
    body = client.get("/dashboard/", **EN).content.decode()
    assert "儀表板" in body and ">Dashboard<" not in body
    _switch(client, "en", "/dashboard/")
    body = client.get("/dashboard/", **EN).content.decode()
    assert ">Dashboard<" in body
    # the choice survives signing out and in again (it is a cookie, not part of the session)
    client.post("/accounts/logout/")
    login_client(client, world.officer)
    assert ">Dashboard<" in client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="zh-TW").content.decode()


@pytest.mark.django_db
def test_unknown_language_cookie_falls_back_to_chinese(client, zh_default):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "fr"
    assert "<h1>登入</h1>" in client.get("/accounts/login/", **EN).content.decode()


def test_amounts_group_digits_by_three_in_both_languages():
    from django.template import Context, Template
    from django.utils import translation

    tpl = Template('{{ n|floatformat:"0g" }}')
    for lang in ("zh-hant", "en"):
        with translation.override(lang):
            assert tpl.render(Context({"n": 1200000})) == "1,200,000", lang
