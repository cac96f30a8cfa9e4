"""Rerun, under the interpreter running this, every test that skipped in a
pytest run whose junit report is given: CI's second pass, after the
optional extras are installed.

    python .ci/rerun_skipped.py REPORT.xml [PYTEST ARGS...]

The list comes from the report of the run itself, so it cannot go stale: a
test that skips for a missing extra (``pytest.importorskip``, a doctest's
``DOCTEST_NEEDS``, a ``skipif`` on an import) reruns with the extra; one that
skips for another reason (no CUDA) skips again, at no cost. Nothing to rerun
is a success, and so is pytest's exit code 5 (nothing collected); a failure
fails.
"""

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# pytest's exit code when it collected no test.
NO_TESTS_COLLECTED = 5


def _module_file(dotted):
    """The file of a dotted module name (``tests.test_io``), and what of
    the name is left (classes), or None."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        path = Path(*parts[:end]).with_suffix(".py")
        if (ROOT / path).is_file():
            return path.as_posix(), parts[end:]
    return None


def node_id(classname, name):
    """A junit test case's pytest node id: ``tests/test_io.py::test_x[a]``,
    ``sknebula/io.py::sknebula.io.to_onnx`` (a doctest), or the file alone
    for a module skipped whole at collection (its classname is empty)."""
    if not classname:
        found = _module_file(name)
        return found[0] if found and not found[1] else None
    found = _module_file(classname)
    if found is None:
        return None
    path, classes = found
    return "::".join([path, *classes, name])


def skipped(report):
    """The node ids of the tests the report says skipped, in its order."""
    ids = []
    for case in ET.parse(report).getroot().iter("testcase"):
        if case.find("skipped") is None:
            continue
        nid = node_id(case.get("classname", ""), case.get("name", ""))
        if nid is None:
            raise SystemExit(f"cannot find the test {case.get('classname')}::"
                             f"{case.get('name')} of {report} in {ROOT}")
        ids.append(nid)
    return list(dict.fromkeys(ids))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        raise SystemExit(__doc__)
    report, extra = argv[0], argv[1:]
    ids = skipped(report)
    if not ids:
        print("rerun_skipped: no test skipped, nothing to rerun")
        return 0
    print(f"rerun_skipped: {len(ids)} test(s) or module(s) skipped; rerunning them:")
    print("  " + "\n  ".join(ids), flush=True)
    code = subprocess.run([sys.executable, "-m", "pytest", "-rs", *extra, *ids],
                          cwd=ROOT).returncode
    return 0 if code == NO_TESTS_COLLECTED else code


if __name__ == "__main__":
    sys.exit(main())
