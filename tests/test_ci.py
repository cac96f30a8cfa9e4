"""CI's second pass (.ci/rerun_skipped.py): the tests that skipped in
README's `make test` rerun once the optional extras are installed."""

import importlib.util
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def rerun():
    spec = importlib.util.spec_from_file_location("rerun_skipped",
                                                  ROOT / ".ci" / "rerun_skipped.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REPORT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="" name="tests.test_dask" time="0.000">
  <skipped message="collection skipped">could not import 'dask'</skipped></testcase>
<testcase classname="sknebula.io._onnx" name="sknebula.io._onnx.to_onnx" time="0.001">
  <skipped type="pytest.skip" message="needs the optional onnx">...</skipped></testcase>
<testcase classname="tests.test_docs_numbers"
  name="test_every_bench_table_resolves_to_the_files_cells[nebula.rst]" time="0.002">
  <skipped type="pytest.skip" message="needs docutils">...</skipped></testcase>
<testcase classname="tests.test_docs_numbers" name="test_a_role_reads_one_table_of_a_file"
  time="0.1" />
</testsuite></testsuites>
"""


def test_the_skipped_tests_of_a_junit_report_are_found(rerun, tmp_path):
    report = tmp_path / "report.xml"
    report.write_text(REPORT)
    assert rerun.skipped(report) == [
        "tests/test_dask.py",
        "sknebula/io/_onnx.py::sknebula.io._onnx.to_onnx",
        "tests/test_docs_numbers.py::test_every_bench_table_resolves_to_the_files_cells"
        "[nebula.rst]",
    ]
    gone = tmp_path / "gone.xml"
    gone.write_text(REPORT.replace("tests.test_dask", "tests.test_no_such_module"))
    with pytest.raises(SystemExit, match="cannot find the test"):
        rerun.skipped(gone)


def test_nothing_to_rerun_passes_and_a_failure_fails(rerun, tmp_path, monkeypatch):
    clean = tmp_path / "clean.xml"
    clean.write_text(REPORT.split("<testcase")[0] + "</testsuite></testsuites>")
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a) or done)
    assert rerun.main([str(clean)]) == 0 and calls == []
    report = tmp_path / "report.xml"
    report.write_text(REPORT)
    for code, expected in ((0, 0), (5, 0), (1, 1), (2, 2)):
        done = subprocess.CompletedProcess([], code)
        assert rerun.main([str(report), "-q"]) == expected, code
    assert calls[-1][0][-4:-3] == ["-q"] and calls[-1][0][-1].endswith("[nebula.rst]")
