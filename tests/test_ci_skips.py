"""The CI rule of tests/conftest.py: with CI set, every kind of skip fails; without it, skips stay skips."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFTEST = Path(__file__).with_name("conftest.py")

SKIPPING_TESTS = """
import pytest

def test_skip_call():
    pytest.skip("node is not installed")

@pytest.mark.skipif(True, reason="needs /dev/shm")
def test_skipif():
    pass

@pytest.fixture
def tool():
    pytest.skip("minisign is not installed")

def test_skip_in_fixture(tool):
    pass

def test_importorskip():
    pytest.importorskip("gongshi_no_such_module")

def test_passes():
    pass

@pytest.mark.browser
def test_left_out_by_marker():
    pytest.skip("never reached: deselected by -m")

@pytest.mark.xfail(reason="known", strict=True)
def test_expected_failure():
    assert False
"""


@pytest.fixture
def run(pytester, monkeypatch):
    """Run pytest on SKIPPING_TESTS under the real conftest, with CI set to `ci` (None: unset)."""
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makeini("[pytest]\nmarkers =\n    browser: a marker to deselect\n")
    pytester.makepyfile(test_skipping=SKIPPING_TESTS)

    def run_with(ci: str | None, *arguments: str):
        if ci is None:
            monkeypatch.delenv("CI", raising=False)
        else:
            monkeypatch.setenv("CI", ci)
        return pytester.runpytest("-rfEs", "-m", "not browser", *arguments)  # as `make test`

    return run_with


@pytest.mark.parametrize("ci", ["1", "TRUE"])
def test_in_ci_every_skip_fails(run, ci):
    result = run(ci)
    result.assert_outcomes(passed=1, failed=2, errors=2, deselected=1, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines_random([
        "FAILED test_skipping.py::test_skip_call*", "FAILED test_skipping.py::test_importorskip*",
        "ERROR test_skipping.py::test_skipif*", "ERROR test_skipping.py::test_skip_in_fixture*",
        "*node is not installed*", "*minisign is not installed*", "*needs /dev/shm*",
        "*gongshi_no_such_module*", f"*CI is set (CI={ci}), so this skip is a failure*",
    ])


@pytest.mark.parametrize("ci", [None, "0", "false"])
def test_outside_ci_skips_stay_skips_and_list_their_reasons(run, ci):
    result = run(ci)
    result.assert_outcomes(passed=1, skipped=4, deselected=1, xfailed=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines_random([
        "SKIPPED*node is not installed", "SKIPPED*needs /dev/shm", "SKIPPED*minisign is not installed",
        "SKIPPED*gongshi_no_such_module*", "*1 passed, 4 skipped, 1 deselected, 1 xfailed*",
    ])


def test_in_ci_a_module_level_skip_fails_the_collection(pytester, monkeypatch):
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makepyfile(test_whole_file="import pytest\npytest.importorskip('gongshi_no_such_module')\n\n"
                                        "def test_never_runs():\n    pass\n")
    monkeypatch.setenv("CI", "1")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED  # "1 error during collection"
    result.stdout.fnmatch_lines(["*ERROR collecting test_whole_file.py*", "*gongshi_no_such_module*"])
    monkeypatch.delenv("CI")
    pytester.runpytest().assert_outcomes(skipped=1)
