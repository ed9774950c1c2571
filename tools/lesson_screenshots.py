"""Screenshots of each lesson's ending and of one expected-output figure, in headless Chromium, offline.

    python tools/lesson_screenshots.py /tmp/lesson-shots            # every lesson
    python tools/lesson_screenshots.py /tmp/lesson-shots 05 08      # some

For lesson NN it renders, with nbconvert's JupyterLab template, ``solutions/NN_*.ipynb`` (its stored
``standard`` outputs) and the student copy ``lessons/NN_*.ipynb``, opens both in Debian's
``/usr/bin/chromium`` driven by Playwright (no browser is downloaded; requests that leave the machine
are aborted) in a window as wide as JupyterLab's notebook area at its default layout (1000 px), and
writes:

* ``NN-ending.png``: the solution's last two cells (the summary and what it prints), with their
  height in pixels printed (one screen is about 900 px);
* ``NN-example-output.png``: the student copy's first "*Example output*" cell, the figure a
  student is shown as what to aim for.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
#: JupyterLab's notebook area at its default layout (file browser open) on a 1280 px screen
WIDTH = 1000
EXAMPLE_OUTPUT = "Example output"


def _html(notebook: Path, folder: Path) -> Path:
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nbformat.read(notebook, as_version=4))
    path = folder / (notebook.stem + ".html")
    path.write_text(body, encoding="utf-8")
    return path


def main(out: str, lessons: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    solutions = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    if lessons:
        solutions = [p for p in solutions if p.name[:2] in lessons]
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": WIDTH, "height": 1000})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
        for solution in solutions:
            nn = solution.name[:2]
            page.goto(_html(solution, Path(tmp)).as_uri(), wait_until="load")
            cells = page.query_selector_all(".jp-Cell")
            ending = cells[-2:]
            boxes = [c.bounding_box() for c in ending]
            top, bottom = boxes[0]["y"], boxes[-1]["y"] + boxes[-1]["height"]
            page.screenshot(path=str(out_dir / f"{nn}-ending.png"), full_page=True,
                            clip={"x": 0, "y": top, "width": WIDTH, "height": bottom - top})
            line = f"{nn}: ending {bottom - top:.0f} px tall ({nn}-ending.png)"
            page.goto(_html(ROOT / "lessons" / solution.name, Path(tmp)).as_uri(), wait_until="load")
            example = next((c for c in page.query_selector_all(".jp-MarkdownCell")
                            if EXAMPLE_OUTPUT in c.inner_text()), None)
            if example is None:
                line += "; no Example-output cell in the student copy"
            else:
                example.screenshot(path=str(out_dir / f"{nn}-example-output.png"))
                line += f"; first Example output: {nn}-example-output.png"
            print(line, flush=True)
        browser.close()
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2:]))
