"""Write the styles plotly.js would inject as <style> elements into static stylesheets.

    .venv/bin/python scripts/plotly_css.py      # after replacing the vendored plotly.js bundle

When it loads, plotly.js adds two <style> elements to the page, each unless an element with its id is
there already: "plotly.js-style-global" (its own rules: mode bar, hover labels, notifier; filled through
insertRule; skipped only if that element also has the class "no-inline-styles") and, in the bundles with
map traces, one named by a hash (the CSS of MapLibre GL). The pages use the basic bundle (scatter, bar, pie:
static/ccinspect/vendor/plotly-basic.min.js, from the npm package plotly.js-basic-dist-min), which has no
map traces. The Content-Security-Policy has no 'unsafe-inline' for styles, so
the browser refuses both; templates/_plotly.html links these files instead, under the same ids, before
plotly.js. The styles are read in Debian's chromium from a blank page where plotly.js has just loaded, as
plotly.js writes them and in the order they take effect. tests/web/test_browser_csp.py fails when the files
and the bundled plotly.js differ.
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1] / "src/ccinspect/web"
STATIC = ROOT / "static/ccinspect"
BUNDLE = STATIC / "vendor" / "plotly-basic.min.js"
TEMPLATE = ROOT / "templates/_plotly.html"
GLOBAL_ID = "plotly.js-style-global"
GLOBAL_FILE, MAPLIBRE_FILE = "plotly.css", "plotly-maplibre.css"
# plotly.js inserts each of its rules at index 0, so the sheet ends up in the reverse order of the calls
CAPTURE = """() => {
  window.__rules = [];
  const insert = CSSStyleSheet.prototype.insertRule;
  CSSStyleSheet.prototype.insertRule = function (rule, index) {
    window.__rules.unshift(rule);
    return insert.call(this, rule, index);
  };
}"""
STYLES = "[...document.querySelectorAll('style')].map(s => [s.id, s.textContent, s.sheet.cssRules.length])"


def version() -> str:
    with BUNDLE.open(encoding="utf-8") as fh:
        for line in fh:
            if "plotly.js" in line and " v" in line:  # "plotly.js (basic - minified) v4.1.1"
                return line.split("plotly.js ", 1)[1].strip()
    return "?"


def injected(page) -> dict[str, tuple[str, str]]:
    """{file name: (the <style> element's id, the stylesheet's text)} for what plotly.js injects on load, on a
    playwright page (blank: no policy, nothing else on it)."""
    page.set_content("<!doctype html><html><head></head><body></body></html>")
    page.evaluate(CAPTURE)
    page.add_script_tag(path=str(BUNDLE))
    rules = page.evaluate("window.__rules")
    out: dict[str, tuple[str, str]] = {}
    for sid, text, n in page.evaluate(STYLES):
        if sid == GLOBAL_ID:
            assert not text.strip() and n == len(rules), "plotly.js fills its global style other than by insertRule"
            out[GLOBAL_FILE] = (sid, stylesheet(sid, "its own rules (mode bar, hover labels, notifier)", rules))
        elif ".maplibregl-map" in text and MAPLIBRE_FILE not in out:
            out[MAPLIBRE_FILE] = (sid, stylesheet(sid, "MapLibre GL's CSS (map traces)", [text.strip()]))
        else:
            raise SystemExit(f"plotly.js injects a <style id={sid!r}> this script does not know: {text[:80]!r}")
    if GLOBAL_FILE not in out:
        raise SystemExit(f"plotly.js injected {sorted(out)}, expected at least {GLOBAL_FILE}")
    return out


def stylesheet(sid: str, what: str, rules: list[str]) -> str:
    return (f"/* plotly.js {version()}, {what}: it would inject them as <style id=\"{sid}\">,\n"
            "   which the Content-Security-Policy refuses. Written by scripts/plotly_css.py; do not edit. */\n"
            + "\n".join(rules) + "\n")


def main() -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        styles = injected(browser.new_page())
        browser.close()
    template = TEMPLATE.read_text(encoding="utf-8")
    for name, (sid, text) in styles.items():
        (STATIC / name).write_text(text, encoding="utf-8")
        print(f"{STATIC / name}: <style id={sid!r}>, {len(text)} characters")
        if f'id="{sid}"' not in template:
            raise SystemExit(f"{TEMPLATE}: link {name} with id=\"{sid}\" (plotly.js changed the id)")
    for name in {GLOBAL_FILE, MAPLIBRE_FILE} - set(styles):
        if (STATIC / name).exists() or name in template:
            raise SystemExit(f"plotly.js no longer injects {name}: delete static/ccinspect/{name} and its link")


if __name__ == "__main__":
    main()
