"""Static files: hashed names in the pages, compressed responses, long-lived caching for hashed names only,
and the trimmed chart bundle."""

from __future__ import annotations

import gzip
import re

import pytest
from django.conf import settings
from django.test import Client

from .conftest import login_client

pytestmark = pytest.mark.django_db


def test_pages_name_hashed_files_served_compressed_and_cached_for_a_year(world):
    html = login_client(Client(), world.regulator).get("/regulator/").content.decode()
    names = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert names and all(re.search(r"\.[0-9a-f]{12}\.(js|css)$", n) for n in names), names
    plotly = next(n for n in names if "plotly-basic.min." in n)
    assert not any("plotly.min.js" in n for n in names)  # not the 4.8 MB full bundle
    c = Client()
    plain = c.get(plotly)
    raw = b"".join(plain.streaming_content)
    assert plain.status_code == 200 and 1_000_000 < len(raw) < 1_500_000
    assert plain["Cache-Control"] == "max-age=315360000, public, immutable"
    gz = c.get(plotly, HTTP_ACCEPT_ENCODING="gzip")
    body = b"".join(gz.streaming_content)
    assert gz["Content-Encoding"] == "gzip" and len(body) < 450_000 and gzip.decompress(body) == raw
    br = c.get(plotly, HTTP_ACCEPT_ENCODING="br, gzip")
    assert br["Content-Encoding"] == "br" and int(br["Content-Length"]) < len(body)
    # an unhashed name is still served, but cached only briefly: it may change under the same name
    short = c.get("/static/ccinspect/app.css")
    assert short.status_code == 200 and "immutable" not in short["Cache-Control"]


def test_the_manifest_knows_every_file_the_templates_name():
    """A template naming a missing static file fails at render (the manifest is strict): here, all of them."""
    from django.contrib.staticfiles.storage import staticfiles_storage

    from ccinspect.web.settings import WEB_DIR

    named = set()
    for tpl in WEB_DIR.rglob("*.html"):
        named |= set(re.findall(r"""{%\s*static\s+['"]([^'"]+)['"]""", tpl.read_text(encoding="utf-8")))
    assert "ccinspect/vendor/plotly-basic.min.js" in named and len(named) > 5
    for name in named:
        assert staticfiles_storage.stored_name(name) != name, name
    assert settings.STORAGES["staticfiles"]["BACKEND"].endswith("CompressedManifestStaticFilesStorage")
