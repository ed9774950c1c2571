"""Student copies in a real browser: JupyterLab + headless Chromium (Playwright).

The tests start JupyterLab on a free localhost port with a random token, in a
scratch folder holding copies of ``lessons/02_*.ipynb`` and ``lessons/08_*.ipynb``,
and open a lesson in Debian's ``/usr/bin/chromium`` driven by Playwright for
Python (no browser is downloaded), waiting until its kernel is idle.

* Lesson 02's θ explorer: run the explorer cell (the code cell that calls
  ``theta_explorer(``) with Shift+Enter, wait for the rendered picture, press
  ArrowRight on the rotation slider's handle, and check that the picture shown
  in the page changed.
* Lesson 08's exercise 2, answered wrong as a student does: run the set-up
  cells, type a ``round_trip`` that returns V without decoding it into the
  exercise cell, run it and the check cell, and check that the page shows the
  check's one-line message and its hint, and no traceback.

Chromium is a Debian package the set-up cannot bring: without it the test is
skipped with the line that installs it (``helpers.requires``); in CI (``$CI``
set) ``.ci/run`` installs it and a missing one fails the test. Playwright
comes with the ``dev`` extra.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from helpers import requires

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("STN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
#: the whole test must stay well inside 3 minutes
DEADLINE_S = 150

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(base: str, token: str, path: str):
    req = urllib.request.Request(f"{base}{path}", headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def _wait(predicate, timeout: float, what: str, proc=None, log=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"JupyterLab exited early while waiting for {what}:\n"
                                 f"{log.read_text()[-3000:] if log else ''}")
        try:
            value = predicate()
        except Exception:  # noqa: BLE001 - server still starting, kernel not there yet
            value = None
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}"
                         + (f"\nJupyterLab log:\n{log.read_text()[-3000:]}" if log else ""))


#: the student copies the tests open
LESSONS = ("02", "08")


@pytest.fixture(scope="module")
def lessons() -> dict[str, Path]:
    out = {}
    for number in LESSONS:
        found = sorted((ROOT / "lessons").glob(f"{number}_*.ipynb"))
        assert found, f"lessons/{number}_*.ipynb is missing (run `stn-course make-lessons`)"
        out[number] = found[0]
    return out


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory, lessons):
    """JupyterLab serving scratch copies of :data:`LESSONS`: yields (base url, token,
    {lesson number: notebook name}, log file)."""
    requires(f"Chromium ({CHROMIUM})", "apt-get install -y chromium",
             found=shutil.which(CHROMIUM) is not None or Path(CHROMIUM).exists())
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        requires("Playwright for Python", 'pip install -e ".[dev]"', found=False)
    work = tmp_path_factory.mktemp("lab")
    nb_dir, cfg = work / "notebooks", work / "config"
    nb_dir.mkdir()
    for path in lessons.values():
        shutil.copy(path, nb_dir / path.name)
    # no news / update pop-ups over the notebook
    (cfg / "labconfig").mkdir(parents=True)
    (cfg / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    # render every cell (JupyterLab 4 otherwise only attaches the cells near the viewport)
    tracker = work / "settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(cfg), "JUPYTERLAB_SETTINGS_DIR": str(work / "settings"), "JUPYTER_RUNTIME_DIR": str(work / "runtime"),
           "IPYTHONDIR": str(work / "ipython"), "MPLBACKEND": "module://matplotlib_inline.backend_inline",
           "STN_BUDGET": os.environ.get("STN_BUDGET", "smoke"), "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    log = work / "jupyterlab.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={nb_dir}",
             f"--LabApp.workspaces_dir={work / 'workspaces'}", "--ServerApp.port_retries=0",
             *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
            cwd=nb_dir, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: _api(base, token, "/api/status"), 60, "the JupyterLab server", proc, log)
        yield base, token, {number: path.name for number, path in lessons.items()}, log
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def _kernel_idle(base, token, name=None):
    """Whether the kernel of notebook ``name`` (default: the first session's) is idle."""
    sessions = [s for s in _api(base, token, "/api/sessions")
                if name is None or Path(s.get("path", "")).name == name]
    if not sessions:
        return False
    kernel = _api(base, token, f"/api/kernels/{sessions[0]['kernel']['id']}")
    return kernel["execution_state"] == "idle"


def _in_browser(log, drive):
    """``drive(page)`` in headless Chromium; on failure a screenshot and the page go next to ``log``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            try:
                return drive(page)
            except Exception as err:
                page.screenshot(path=str(log.with_name("failure.png")))
                log.with_name("failure.html").write_text(page.content())
                raise AssertionError(
                    f"browser test failed: {type(err).__name__}: {err}\nscreenshot and page in "
                    f"{log.parent}; JupyterLab log tail:\n{log.read_text()[-2000:]}") from err
        finally:
            browser.close()


def test_explorer_slider_changes_the_picture_in_jupyterlab(jupyterlab):
    base, token, names, log = jupyterlab
    start = time.monotonic()
    shots = _in_browser(log, lambda page: _drive_explorer(page, base, token, names["02"], log))
    shot_before, shot_after, readout = shots
    assert shot_after != shot_before, "the picture did not change after moving the rotation slider"
    assert readout.strip() != f"{30.0:.2f}", f"the slider did not move (readout {readout!r})"
    assert time.monotonic() - start < DEADLINE_S


def _drive_explorer(page, base, token, name, log):
    """Open the lesson, run the explorer cell, press ArrowRight on the rotation slider.

    Returns (screenshot before, screenshot after, the slider's readout).
    """
    page.goto(f"{base}/lab/tree/{name}?token={token}")
    cell = page.locator(".jp-Notebook .jp-CodeCell").filter(has_text="theta_explorer(").first
    cell.wait_for(state="attached")
    _wait(lambda: _kernel_idle(base, token), 90, "the kernel to be ready", log=log)
    cell.scroll_into_view_if_needed()
    cell.locator(".jp-InputPrompt").first.click()  # select the cell (command mode)
    page.keyboard.press("Shift+Enter")

    picture = cell.locator("img.stn-explorer-image")
    picture.wait_for(state="visible", timeout=90_000)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=picture.element_handle())
    src_before = picture.get_attribute("src")
    shot_before = picture.screenshot()

    handle = cell.locator(".stn-slider-angle .noUi-handle").first
    handle.scroll_into_view_if_needed()
    handle.focus()
    handle.press("ArrowRight")
    page.wait_for_function(
        "([img, src]) => img.getAttribute('src') !== src && img.complete && img.naturalWidth > 0",
        arg=[picture.element_handle(), src_before], timeout=60_000)
    readout = cell.locator(".stn-slider-angle .widget-readout").first.inner_text()
    return shot_before, picture.screenshot(), readout


#: a typical wrong answer to lesson 08's exercise 2: V returned as the encoder left it, not decoded
ROUND_TRIP_WITHOUT_DECODER = """def round_trip(U, theta):
    size = tuple(U.shape[2:])
    grid = affine_grid(theta, size, align_corners=False)
    return sample(U, grid, padding_mode="border", align_corners=False)
"""


def test_a_wrong_answer_in_lesson_08_gets_one_line_and_its_hint_in_jupyterlab(jupyterlab):
    base, token, names, log = jupyterlab
    start = time.monotonic()
    output = _in_browser(log, lambda page: _answer_round_trip(page, base, token, names["08"], log))
    lines = [line for line in output.splitlines() if line.strip()]
    assert "Traceback" not in output and "File " not in output and "Error" not in output, output
    assert len(lines) == 2, f"the check must show one message line and its hint, got {lines}"
    assert lines[0].startswith("✗ round_trip, case 'θ = the picture shifted 2 pixels to the right'"), lines
    assert lines[1].startswith("Hint: you returned V, the encoder's output, without decoding it"), lines
    assert time.monotonic() - start < DEADLINE_S


def _run_cell(page, cell):
    """Run ``cell`` with Shift+Enter from command mode and wait until it has run (its prompt shows a
    number, not *)."""
    cell.scroll_into_view_if_needed()
    cell.locator(".jp-InputPrompt").first.click()
    page.keyboard.press("Shift+Enter")
    page.wait_for_function("el => /\\[\\d+\\]/.test(el.textContent)", arg=cell.locator(
        ".jp-InputPrompt").first.element_handle(), timeout=90_000)


def _answer_round_trip(page, base, token, name, log):
    """Open lesson 08, run its set-up, type :data:`ROUND_TRIP_WITHOUT_DECODER` into exercise 2's cell,
    run it and the check. Returns the text of the check cell's output."""
    page.goto(f"{base}/lab/tree/{name}?token={token}")
    # this lesson's cells only (the workspace may still hold lesson 02, in a hidden tab)
    cells = page.locator(".jp-Notebook").filter(has_text="def round_trip(").first.locator(".jp-CodeCell")
    exercise = cells.filter(has_text="def round_trip(").first
    exercise.wait_for(state="attached")
    _wait(lambda: _kernel_idle(base, token, name), 90, "the kernel to be ready", log=log)
    for marker in ("BUDGET = None", "ctx = L.start("):  # the parameters and the set-up cell
        _run_cell(page, cells.filter(has_text=marker).first)
    editor = exercise.locator(".cm-content").first
    editor.scroll_into_view_if_needed()
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(ROUND_TRIP_WITHOUT_DECODER)  # as typed, without the editor's auto-indent
    page.keyboard.press("Escape")  # command mode
    _run_cell(page, exercise)
    check = cells.filter(has_text="L.check_round_trip(").first
    _run_cell(page, check)
    out = check.locator(".jp-OutputArea-output").first
    out.wait_for(state="visible")
    return out.inner_text()
