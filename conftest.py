"""Repository-wide pytest set-up, for tests/ and for the notebooks nbval collects.

Notebooks run at ``BUDGET=smoke`` with one line per epoch instead of progress
bars, and record their results into a temporary file, never into runs/.
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

_results_dir = tempfile.mkdtemp(prefix="stn-test-results-")
atexit.register(shutil.rmtree, _results_dir, ignore_errors=True)
os.environ["STN_BUDGET"] = "smoke"
os.environ["STN_PROGRESS"] = "log"
os.environ["STN_RESULTS"] = str(Path(_results_dir) / "results.json")
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebooks)
