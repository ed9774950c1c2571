"""Screenshots of the built book in headless Chromium, offline: one per lesson page (and more).

    python tools/book_screenshots.py build/book /tmp/shots

Serves the site on 127.0.0.1 (a free port), opens every page in Debian's
``/usr/bin/chromium`` driven by Playwright (no browser is downloaded), aborts
and reports every request that leaves localhost (the site must need none),
waits for MathJax to typeset, and writes ``<page>.png`` (the top of the page)
and ``<page>-figure.png`` (scrolled to its first figure). Prints, per page, how
many formulas MathJax rendered, how many it failed on, how many images did not
load, and the requests that tried to leave the machine.
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

CHROMIUM = "/usr/bin/chromium"


def main(site: str, out: str) -> int:
    from playwright.sync_api import sync_playwright

    site_dir, out_dir = Path(site).resolve(), Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # noqa: D102 - one line per page is printed below
            pass

    handler = functools.partial(Quiet, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    pages = ["index.html", "report.html", "references.html"] + sorted(
        f"lessons/{p.name}" for p in (site_dir / "lessons").glob("*.html"))
    bad = 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        left: list[str] = []

        def route(r):
            host = urlparse(r.request.url).hostname
            if host not in ("127.0.0.1", None):
                left.append(r.request.url)
                return r.abort()
            return r.continue_()

        page.route("**/*", route)
        for name in pages:
            left.clear()
            page.goto(f"{base}/{name}", wait_until="networkidle")
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise"
                                   " && (MathJax.startup.promise.then(() => window.__mj = 1), window.__mj)",
                                   timeout=60_000) if page.query_selector(".math") else None
            rendered = page.eval_on_selector_all("mjx-container", "els => els.length")
            errors = page.eval_on_selector_all("mjx-merror, mjx-container [data-mjx-error]",
                                               "els => els.length")
            broken = page.eval_on_selector_all(
                "img", "els => els.filter(e => !(e.complete && e.naturalWidth > 0)).length")
            stem = name.replace("/", "_").removesuffix(".html")
            page.screenshot(path=str(out_dir / f"{stem}.png"))
            fig = page.query_selector("div.cell_output img")
            if fig is not None:
                fig.scroll_into_view_if_needed()
                page.screenshot(path=str(out_dir / f"{stem}-figure.png"))
            bad += bool(errors or broken or left)
            print(f"{name}: {rendered} formulas rendered, {errors} math errors, {broken} broken "
                  f"images, {len(left)} requests off the machine {left[:3]}")
        browser.close()
    server.shutdown()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
