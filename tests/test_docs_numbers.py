"""Every benchmark number the user guide quotes is one a results file holds.

The rule, for README.md, docs/choosing.rst and docs/user_guide/*.rst:

* A ``:bench:`FILE | ROW | COLUMN``` role is read from the results file when
  the pages build (docs/_bench.py); each must resolve.
* Every other number with a decimal point (``0.931``, ``9.0``, ``1,347.5``)
  that stands in a *benchmark context* must occur, as a whole number, in a
  results file under benchmarks/results/ (the archive included: a page may
  cite a superseded run as history). The benchmark contexts are the
  paragraphs that cite a benchmark (they name ``benchmarks/results``, a
  results file of benchmarks/runs.toml such as ``front.md``, a benchmark
  command such as ``benchmarks.front``, or use ``:bench:``), the tables
  (csv-table, list-table, simple and markdown tables) that cite one or
  follow a paragraph that does, and the block (a list) that a citing
  paragraph introduces with a colon. Measurements of the design notes that cite
  no benchmark are not checked (they say where they were measured).
* Code (literal blocks, ``code-block`` directives, markdown fences) and
  inline literals are not quotes of a benchmark: they hold parameter values
  and printed examples.
* Integers are not checked (seeds, counts, sizes, epochs).

ALLOWED lists the numbers in those contexts that are not benchmark numbers,
each with the reason: parameter values, and a few design-note measurements
made by hand that no benchmark script makes (they stand in a paragraph that
also quotes a benchmark). It may not hold a number some results file holds.
"""

import functools
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs"))

from _bench import BenchError, resolve, roles  # noqa: E402

from benchmarks._common import manifest, result_files  # noqa: E402

PAGES = [ROOT / "README.md", ROOT / "docs" / "choosing.rst",
         *sorted((ROOT / "docs" / "user_guide").glob("*.rst"))]
DECIMAL = re.compile(r"(?<![\w.,])\d[\d,]*\.\d+(?![\w.]*\d)")

# page name -> {number: why it is not a benchmark number}
ALLOWED = {
    "data_kinds.rst": {
        "2.5": "a parameter of the volume descriptor (RMS radii per half grid)",
        "1.1": "a parameter of the data set (the largest solid size)",
        "1.5": "a design note's partner-search time on OSULeaf, timed by hand while "
               "choosing the metrics; no benchmark script measures it",
        "0.78": "a design note's probe (local moves after the fit, seeds 0 and 1), run "
                "by hand; no benchmark script measures it",
        "0.81": "the same probe",
        "0.83": "the same probe",
    },
    "embedding.rst": {
        "0.92": "a design note: VI-SimSiam with both views from the sample itself, "
                "measured by hand before n_neighbors=10 became its default",
        "0.01": "the tolerance the defaults are held to, a rule, not a measurement",
    },
    "nebula.rst": {
        "0.01": "the tolerance the defaults are held to, a rule, not a measurement",
        "1.5": "a parameter of the select_k benchmark (its grids: 0.6, 1 and 1.5 times k)",
    },
}


@functools.lru_cache(maxsize=1)
def held_numbers():
    """Every decimal number written in some results file."""
    numbers = set()
    for path in result_files(archive=True):
        numbers |= set(DECIMAL.findall(path.read_text()))
    return numbers


def _strip_code(text, markdown):
    """The page without code blocks, inline literals and :bench: roles,
    line for line (a removed line is left empty)."""
    text = re.sub(r":bench:`[^`]+`", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    out, fence, literal_indent = [], False, None
    for line in text.split("\n"):
        if markdown and line.lstrip().startswith("```"):
            fence = not fence
            out.append("")
            continue
        if fence:
            out.append("")
            continue
        if literal_indent is not None:
            indent = len(line) - len(line.lstrip())
            if line.strip() and indent <= literal_indent:
                literal_indent = None
            else:
                out.append("")
                continue
        stripped = line.rstrip()
        if not markdown and (stripped.endswith("::") and not re.match(
                r"\s*\.\. (csv-table|list-table|table)::", stripped)):
            literal_indent = len(line) - len(line.lstrip())
            stripped = stripped[:-2]
        out.append(stripped)
    text = "\n".join(out)
    blank = lambda m: re.sub(r"[^\n]", " ", m.group(0))  # noqa: E731 (keeps the lines)
    return re.sub(r"``.+?``" if not markdown else r"`[^`]+`", blank, text, flags=re.S)


def _cites_benchmark(paragraph, files):
    return (":bench:" in paragraph or "benchmarks/results" in paragraph
            or "benchmarks." in paragraph or any(f"{name}.md" in paragraph for name in files))


TABLE = re.compile(r"\s*\.\. (csv-table|list-table|table)::|\s*=+( +=+)+\s*$|\s*\|", re.M)


def _paragraphs(lines):
    """(start, end) line ranges of the blocks between blank lines."""
    start = None
    for i, line in enumerate(lines + [""]):
        if line.strip() and start is None:
            start = i
        elif not line.strip() and start is not None:
            yield start, i
            start = None


def benchmark_quotes(page):
    """The decimal numbers of the page's benchmark contexts (see the rule
    above), as (number, the line it stands on). A table (its directive,
    its body and, for rst simple tables and markdown, its lines) counts as
    cited when it or the paragraph before it cites a benchmark; so does a
    block that a citing paragraph ending in a colon introduces."""
    raw = page.read_text()
    markdown = page.suffix == ".md"
    files = manifest()
    quotes, previous, in_table, introduced = [], False, False, False
    stripped = _strip_code(raw, markdown).split("\n")
    for start, end in _paragraphs(raw.split("\n")):
        raw_par = "\n".join(raw.split("\n")[start:end])
        table = bool(TABLE.match(raw_par)) or (in_table and raw_par[:1].isspace())
        cited = _cites_benchmark(raw_par, files) or (previous and (table or introduced))
        if cited:
            quotes += [(n, line.strip()) for line in stripped[start:end]
                       for n in DECIMAL.findall(line)]
        previous, in_table = cited, table
        introduced = raw_par.rstrip().endswith(":")
    return quotes


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_bench_role_resolves(page):
    for spec in roles(page.read_text()):
        try:
            resolve(spec)
        except BenchError as error:  # pragma: no cover - the message is the point
            pytest.fail(f"{page.name}: {error}")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_quoted_benchmark_numbers_are_in_a_results_file(page):
    held = held_numbers()
    allowed = ALLOWED.get(page.name, {})
    missing = [(n, line) for n, line in benchmark_quotes(page)
               if n not in held and n not in allowed]
    assert not missing, (
        f"{page.name} quotes numbers that no results file holds (quote them with "
        f":bench:, or rerun the benchmark):\n"
        + "\n".join(f"  {n}: {line[:160]}" for n, line in missing))


def test_the_allow_list_holds_no_benchmark_number():
    held = held_numbers()
    for page, numbers in ALLOWED.items():
        for number, why in numbers.items():
            assert why, (page, number)
            quoted = {n for p in PAGES if p.name == page for n, _ in benchmark_quotes(p)}
            assert number in quoted, f"{page}: {number} is allowed but not quoted; drop it"
            assert number not in held, f"{page}: {number} is a results number; quote it"


def test_the_rule_on_a_made_up_page(tmp_path):
    page = tmp_path / "made_up.rst"
    page.write_text(
        "A design note: 0.123 in a paragraph that cites no benchmark.\n\n"
        "The front (``benchmarks/results/dev/front.md``) gives 0.456.\n\n"
        ".. csv-table::\n   :header: \"a\", \"b\"\n\n   \"x\", \"0.789\"\n\n"
        "Cited by ``python -m benchmarks.front``::\n\n    est.fit(X)  # 0.999 in code\n\n"
        "Quoted by role: :bench:`front | defaults | fit s (median)` in front.md.\n")
    assert [n for n, _ in benchmark_quotes(page)] == ["0.456", "0.789"]
