"""``stn-course book``: the course website, built once per test session from this checkout.

Every lesson in ``solutions/`` has its page with all its stored figures and the note
on how to open it locally (the student copy and the solution downloadable); no
``$…$`` is left as raw text (myst-nb turns it into MathJax's math); every link
between pages, every image and every download resolves; nothing is loaded from
another host (MathJax comes from ``_static``); the replication report shows every
committed number beside its paper value. With Chromium present (``$CI``: .ci/run
installs it), MathJax typesets the math of a lesson page offline.
"""

from __future__ import annotations

import html as htmllib
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from helpers import requires

from stnlib.course import book
from stnlib.course.results import _fmt, _fmt_entry, load_results

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted(p.stem for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
CHROMIUM = "/usr/bin/chromium"


def _found(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    for module in ("sphinx", "myst_nb", "sphinx_book_theme", "mathjax"):
        requires(module, 'pip install -e ".[dev]"', found=_found(module))
    out = tmp_path_factory.mktemp("book") / "site"
    assert book.build_book(out) == out.resolve()
    return out


class _Page(HTMLParser):
    """Links, sources, ids and the text outside math, code and scripts of one page."""

    SKIP = {"script", "style", "pre", "code"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links, self.sources, self.ids, self.text = [], [], set(), []
        self.scripts: list[str] = []
        self._skip = []  # the open elements whose text is not prose

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag in ("img", "script") and a.get("src"):
            self.sources.append(a["src"])
        if tag == "script" and a.get("src"):
            self.scripts.append(a["src"])
        if tag == "link" and a.get("href"):
            self.sources.append(a["href"])
        if tag in ("br", "img", "meta", "link", "input", "hr"):
            return
        classes = (a.get("class") or "").split()
        self._skip.append(tag in self.SKIP or "math" in classes)

    def handle_endtag(self, tag):
        if self._skip:
            self._skip.pop()

    def handle_data(self, data):
        if not any(self._skip):
            self.text.append(data)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.parts)


def test_every_lesson_has_its_page_with_its_figures(site):
    import nbformat

    assert LESSONS, "no solutions/NN_*.ipynb"
    for stem in LESSONS:
        page = site / "lessons" / f"{stem}.html"
        assert page.exists(), f"no page for solutions/{stem}.ipynb"
        text = page.read_text(encoding="utf-8")
        nb = nbformat.read(ROOT / "solutions" / f"{stem}.ipynb", as_version=4)
        title, _ = book.lesson_summary(nb)
        assert htmllib.escape(title, quote=False) in text or title in htmllib.unescape(text)
        figures = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
                      for o in c.outputs)
        shown = re.findall(r'<img[^>]+src="(\.\./_images/[^"]+)"', text)
        assert len(shown) >= figures > 0 or figures == 0, f"{stem}: {len(shown)} of {figures} figures"
        for src in shown:
            assert (page.parent / src).resolve().stat().st_size > 100, src
        words = " ".join(htmllib.unescape(re.sub(r"<[^>]+>", "", text)).split())
        assert "Open this lesson locally" in words and f"stn-course lab lessons/{stem}.ipynb" in words
        downloads = re.findall(r'href="(\.\./_downloads/[^"]+\.ipynb)"', text)
        assert sorted(Path(d).name for d in downloads) == [f"{stem}.ipynb"] * 2
        student = [d for d in downloads if (page.parent / d).read_bytes()
                   == (ROOT / "lessons" / f"{stem}.ipynb").read_bytes()]
        assert student, f"{stem}: the student copy is not among the downloads"


def test_no_raw_dollar_math_and_math_is_marked_for_mathjax(site):
    for path in _pages(site):
        page = _parse(path)
        prose = " ".join(page.text)
        raw = re.findall(r"\$[^$\s][^$]{0,80}?\$", prose)
        assert not raw, f"{path.relative_to(site)}: raw TeX left in the text: {raw[:3]}"
    lesson = (site / "lessons" / f"{LESSONS[0]}.html").read_text(encoding="utf-8")
    assert 'class="math notranslate nohighlight"' in lesson


def test_links_images_and_downloads_resolve(site):
    pages = {p.resolve(): _parse(p) for p in _pages(site)}
    for path, page in pages.items():
        for ref in page.links + page.sources:
            url = urlparse(ref)
            if url.scheme in ("http", "https", "mailto"):
                continue
            target = (path.parent / unquote(url.path)).resolve() if url.path else path
            assert target.exists(), f"{path.relative_to(site.resolve())}: {ref} does not exist"
            if url.fragment and target.suffix == ".html" and target in pages:
                assert url.fragment in pages[target].ids, f"{path.name}: no #{url.fragment} in {ref}"
    index = pages[(site / "index.html").resolve()]
    for stem in LESSONS:
        assert f"lessons/{stem}.html" in index.links, f"the landing page does not link {stem}"
    assert "report.html" in index.links and "references.html" in index.links


def test_nothing_is_loaded_from_another_host(site):
    for path in _pages(site):
        page = _parse(path)
        remote = [s for s in page.sources if urlparse(s).scheme in ("http", "https")]
        assert not remote, f"{path.relative_to(site)} loads {remote}"
    lesson = _parse(site / "lessons" / f"{LESSONS[0]}.html")
    assert any(s.split("?")[0].endswith("_static/mathjax/tex-chtml.js") for s in lesson.scripts)
    assert (site / "_static" / "mathjax" / "tex-chtml.js").stat().st_size > 100_000
    assert list((site / "_static" / "mathjax" / "output" / "chtml" / "fonts").rglob("*.woff"))


def _cells(row: str) -> list[str]:
    return [htmllib.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_report_shows_every_committed_number_beside_the_paper(site):
    text = (site / "report.html").read_text(encoding="utf-8")
    rows = [_cells(r) for r in re.findall(r"<tr[^>]*>(.*?)</tr>", text, re.S)]
    rows = [r for r in rows if r]
    entries = load_results(ROOT / "results" / "standard.json")["results"]
    assert entries
    for e in entries:
        want = [_fmt(e.get("paper"), e.get("unit", "")), _fmt_entry(e)]
        match = [r for r in rows if r[0].rstrip(" ↑↓") == e["key"] and r[1:3] == want]
        assert match, f"report has no row {e['key']!r} with paper / ours {want}"
    full = ROOT / "results" / "full.json"
    n_full = len(load_results(full)["results"]) if full.exists() else 0
    assert len(rows) == len(entries) + n_full  # one row per recorded number, nothing else
    assert ("No <code" in text) == (not full.exists())


def test_references_are_the_readmes(site):
    text = htmllib.unescape(re.sub(r"<[^>]+>", "", (site / "references.html").read_text("utf-8")))
    body = book.readme_section(ROOT / "README.md", "References")
    for title in re.findall(r"\*([^*]+)\*", body):
        assert " ".join(title.split()) in " ".join(text.split()), title


def test_a_failed_build_leaves_the_old_site_and_a_foreign_folder_is_refused(tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(book.BookError, match="is not a book built by stn-course"):
        book.build_book(foreign, root=ROOT)
    assert (foreign / "notes.txt").read_text() == "keep me"
    old = tmp_path / "site"
    old.mkdir()
    (old / book.MARKER).write_text("{}")
    (old / "index.html").write_text("old")
    empty = tmp_path / "course"
    (empty / "solutions").mkdir(parents=True)
    with pytest.raises(book.BookError, match="no lesson notebooks"):
        book.build_book(old, root=empty)
    assert (old / "index.html").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course", "mine", "site"]  # no leftovers


@pytest.mark.browser
def test_mathjax_typesets_offline_in_chromium(site):
    import functools
    import http.server
    import threading

    requires("Chromium (/usr/bin/chromium)", "apt-get install -y chromium",
             found=Path(CHROMIUM).exists())
    from playwright.sync_api import sync_playwright

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    left = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM,
                                         args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()

            def route(r):
                if urlparse(r.request.url).hostname != "127.0.0.1":
                    left.append(r.request.url)
                    return r.abort()
                return r.continue_()

            page.route("**/*", route)
            stem = next(s for s in LESSONS if s.startswith("01_")) if any(
                s.startswith("01_") for s in LESSONS) else LESSONS[0]
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/lessons/{stem}.html")
            page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 0",
                                   timeout=60_000)
            page.wait_for_load_state("networkidle")
            marked = page.eval_on_selector_all(".math", "els => els.length")
            rendered = page.eval_on_selector_all("mjx-container", "els => els.length")
            errors = page.eval_on_selector_all("mjx-merror", "els => els.length")
            broken = page.eval_on_selector_all(
                "img", "els => els.filter(e => !(e.complete && e.naturalWidth > 0)).length")
            browser.close()
    finally:
        server.shutdown()
    assert not left, f"the page tried to load {left[:3]}"
    assert rendered >= marked > 0 and errors == 0, (marked, rendered, errors)
    assert broken == 0
