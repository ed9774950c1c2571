"""Lesson 02's θ explorer in a real browser: JupyterLab + headless Chromium (Playwright).

The test starts JupyterLab on a free localhost port with a random token, in a
scratch folder holding a copy of ``lessons/02_*.ipynb``; opens the lesson in
Debian's ``/usr/bin/chromium`` driven by Playwright for Python (no browser is
downloaded); waits until the kernel is idle; runs the explorer cell (the code
cell that calls ``theta_explorer(``) with Shift+Enter; waits for the rendered
picture; presses ArrowRight on the rotation slider's handle; and checks that
the picture shown in the page changed.

In CI (``$CI`` set) a missing Chromium or Playwright is a failure, not a skip:
``.ci/run`` installs Chromium with apt-get and Playwright comes with the
``dev`` extra. On a laptop without them the test is skipped with the reason.
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

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("STN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
#: the whole test must stay well inside 3 minutes
DEADLINE_S = 150

pytestmark = pytest.mark.browser


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI: .ci/run must install it (the browser test may not be "
                    "skipped there)")
    pytest.skip(f"{what} is not installed (apt-get install -y chromium; pip install -e '.[dev]')")


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


@pytest.fixture(scope="module")
def lesson02() -> Path:
    found = sorted((ROOT / "lessons").glob("02_*.ipynb"))
    assert found, "lessons/02_*.ipynb is missing (run `stn-course make-lessons`)"
    return found[0]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory, lesson02):
    """JupyterLab serving a scratch copy of lesson 02: yields (base url, token, notebook name)."""
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        _missing(f"Chromium ({CHROMIUM})")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("Playwright for Python")
    work = tmp_path_factory.mktemp("lab")
    nb_dir, cfg = work / "notebooks", work / "config"
    nb_dir.mkdir()
    shutil.copy(lesson02, nb_dir / lesson02.name)
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
        yield base, token, lesson02.name, log
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def _kernel_idle(base, token):
    sessions = _api(base, token, "/api/sessions")
    if not sessions:
        return False
    kernel = _api(base, token, f"/api/kernels/{sessions[0]['kernel']['id']}")
    return kernel["execution_state"] == "idle"


def test_explorer_slider_changes_the_picture_in_jupyterlab(jupyterlab):
    from playwright.sync_api import sync_playwright

    base, token, name, log = jupyterlab
    start = time.monotonic()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            try:
                shots = _drive_explorer(page, base, token, name, log)
            except Exception as err:
                page.screenshot(path=str(log.with_name("failure.png")))
                log.with_name("failure.html").write_text(page.content())
                raise AssertionError(
                    f"browser test failed: {type(err).__name__}: {err}\nscreenshot and page in "
                    f"{log.parent}; JupyterLab log tail:\n{log.read_text()[-2000:]}") from err
        finally:
            browser.close()
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


def test_ci_installs_chromium_and_playwright_so_this_test_cannot_be_skipped_there():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "apt-get install -y" in ci and "chromium" in ci and 'export CI="${CI:-1}"' in ci
    import tomllib

    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    assert any(r.startswith("playwright") for r in dev)
