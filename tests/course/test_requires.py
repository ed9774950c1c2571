"""helpers.requires: what the set-up cannot bring is a skip with its install line, a failure in CI."""

import pytest
from helpers import fashion_mnist, requires

from stnlib.data import fetch as F

LINE = "needs Fashion-MNIST: apt-get install -y dataset-fashion-mnist"


def test_present_requirements_let_the_test_run(monkeypatch):
    for ci in (None, "1"):
        if ci is None:
            monkeypatch.delenv("CI", raising=False)
        else:
            monkeypatch.setenv("CI", ci)
        assert requires("Chromium", "apt-get install -y chromium", found=True) is None


@pytest.mark.parametrize("ci", [None, ""])
def test_a_missing_requirement_skips_with_the_exact_install_line(monkeypatch, ci):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)  # an empty $CI is no CI
    with pytest.raises(pytest.skip.Exception) as e:
        requires("Fashion-MNIST", "apt-get install -y dataset-fashion-mnist", found=False,
                 detail="not shown in a skip")
    assert e.value.msg == LINE


def test_under_ci_a_missing_requirement_fails_instead(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception) as e:
        requires("Chromium (/usr/bin/chromium)", "apt-get install -y chromium", found=False,
                 detail="which chromium: nothing")
    msg = e.value.msg
    assert msg.startswith("needs Chromium (/usr/bin/chromium): apt-get install -y chromium")
    assert "$CI is set" in msg and msg.endswith("\nwhich chromium: nothing")


@pytest.fixture
def no_fashion_mnist(tmp_path, monkeypatch):
    """A data root without Fashion-MNIST, no Debian package, no mirrors."""
    monkeypatch.setenv("STN_DATA", str(tmp_path))
    monkeypatch.setenv("STN_OFFLINE", "1")
    monkeypatch.setattr(F, "DEBIAN_FASHION_DIR", tmp_path / "no-debian-package")
    return tmp_path


def test_fashion_mnist_missing_is_a_skip_with_the_install_line(no_fashion_mnist, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as e:
        fashion_mnist()
    assert e.value.msg == LINE


def test_fashion_mnist_missing_in_ci_fails_with_what_fetch_tried(no_fashion_mnist, monkeypatch):
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception) as e:
        fashion_mnist()
    msg = e.value.msg
    assert msg.startswith(LINE)
    assert "could not obtain fashion-mnist" in msg and "debian:" in msg and "torchvision:" in msg
