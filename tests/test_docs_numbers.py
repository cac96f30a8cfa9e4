"""Every benchmark number the user guide quotes is read from a results file
when the pages build, never copied by hand.

The rule, for README.md, docs/choosing.rst and docs/user_guide/*.rst:

* A ``:bench:`FILE | ROW | COLUMN``` role (``FILE#TITLE`` for one table of
  the file) and a ``.. bench-table:: FILE | TITLE`` directive are read from
  the results file when the pages build (docs/_bench.py; archived files
  too, as a page may cite a superseded run as history); each must resolve,
  and a bench-table shows the file's cells.
* No other number with a decimal point (``0.931``, ``9.0``, ``1,347.5``)
  may stand in a *benchmark context*, even one that some results file
  holds: a number copied by hand goes stale when the benchmark reruns. The
  benchmark contexts are the
  paragraphs that cite a benchmark (they name ``benchmarks/results``, a
  results file of benchmarks/runs.toml such as ``front.md``, a benchmark
  command such as ``benchmarks.front``, or use ``:bench:``), the tables
  (csv-table, list-table, simple and markdown tables) that cite one or
  follow a paragraph that does, the block (a list) that a citing
  paragraph introduces with a colon, a list that follows a cited block, and
  a paragraph ending in a colon that follows one (``What it says:`` under a
  table, introducing the list that reads it). Measurements of the design notes that cite
  no benchmark are not checked (they say where they were measured).
* docs/user_guide/defaults.rst and README.md's spans between
  ``<!-- benchmarks.report: NAME -->`` markers are written from the
  results files by ``python -m benchmarks.report``, and
  tests/test_benchmarks_smoke.py checks that they are current; the rule
  skips them.
* Code (literal blocks, ``code-block`` directives, markdown fences) and
  inline literals are not quotes of a benchmark: they hold parameter values
  and printed examples.
* Integers are not checked (seeds, counts, sizes, epochs).

ALLOWED lists the numbers written by hand in those contexts, each with the
reason: parameter values and thresholds, design-note measurements made by
hand that no benchmark script makes (they stand in a paragraph that also
quotes a benchmark), and numbers that a results file states in a sentence
rather than a table, where no role can read them. Each entry must be
quoted on its page.
"""

import re
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs"))

from _bench import DIRECTIVE, BenchError, bench_tables, directive, resolve, roles  # noqa: E402

from benchmarks._common import manifest, read_tables, read_titled_tables  # noqa: E402

PAGES = [ROOT / "README.md", ROOT / "docs" / "choosing.rst",
         *sorted((ROOT / "docs" / "user_guide").glob("*.rst"))]
# The pages the rule reads: benchmarks.report writes defaults.rst.
WRITTEN = [p for p in PAGES if p.name != "defaults.rst"]
DECIMAL = re.compile(r"(?<![\w.,])\d[\d,]*\.\d+(?![\w.]*\d)")

# page name -> {number: why it is written by hand}
ALLOWED = {
    "README.md": {
        "0.880": "what `make demo` printed with a per-pixel MinMaxScaler in front, run "
                 "by hand; no benchmark script runs the demo",
        "0.858": "the same demo run",
    },
    "data_kinds.rst": {
        "0.626": "a design note's probe (token partners, Markov sources), run by hand; "
                 "it stands in the partner list whose image item quotes a benchmark",
        "0.997": "the same probe",
        "0.995": "the same probe",
        "2.5": "a parameter of the volume descriptor (RMS radii per half grid)",
        "0.6": "a parameter of the data set (the smallest solid size), and a bound read "
               "off the hand-measured partner-purity table above (JapaneseVowels)",
        "1.1": "a parameter of the data set (the largest solid size)",
        "0.505": "a design note's probe (256 channels, 30 epochs), run by hand; no "
                 "benchmark script measures it",
        "0.715": "a design note's probe (the Fourier-magnitude descriptor, seeds 0 and 1), "
                 "run by hand; no benchmark script measures it",
        "0.635": "the same probe",
        "1.5": "a design note's partner-search time on OSULeaf, timed by hand while "
               "choosing the metrics; no benchmark script measures it",
        "0.78": "a design note's probe (local moves after the fit, seeds 0 and 1), run "
                "by hand; no benchmark script measures it",
        "0.81": "the same probe",
        "0.83": "the same probe",
        "98.5": "a design note's partner agreement of the ItalyPowerDemand run, read by "
                "hand; no results file records partner agreement",
    },
    "disentangle.rst": {
        "0.96": "the bar the benchmark holds the defaults to, a rule, not a measurement",
        "0.3": "the same bar",
    },
    "embedding.rst": {
        "0.92": "a design note: VI-SimSiam with both views from the sample itself, "
                "measured by hand before n_neighbors=10 became its default",
        "0.01": "the tolerance the defaults are held to, a rule, not a measurement",
        "0.1": "the default decorrelation weight, and the size of a unit-norm 64-d "
               "vector's entries (1/8); neither is a measurement",
        "0.5": "a noise level of the test, a parameter",
    },
    "nebula.rst": {
        "1.6": "a probe by hand (20 epochs at two torch threads on MNIST-5k, alone and "
               "after UMAP in one process: 12.8 s and 20.9 s); no benchmark script "
               "measures it",
        "0.01": "the tolerance the defaults are held to, a rule, not a measurement",
        "0.6": "a parameter of the select_k benchmark (its grids: 0.6, 1 and 1.5 times k)",
        "1.5": "the same grids",
        "0.872": "a design note's measurement (eight seeds, while building the library), "
                 "by hand; no benchmark script measures it",
        "0.924": "the same measurement",
    },
    "scaling.rst": {
        "0.9": "the threshold tests/test_distributed.py asserts, not a measurement",
        "0.907": "throughput-parallel.md states the run before the step-floor fix in its "
                 "note, where no role can read it",
        "0.827": "the same note",
    },
}


# What the pages build from the results files: the roles, the bench-table
# directives and README's spans that benchmarks.report writes.
READ = (re.compile(r":bench:`[^`]+`"), DIRECTIVE, re.compile(
    r"<!-- benchmarks\.report: [\w-]+ -->.*?<!-- /benchmarks\.report -->", re.S))


def _blank(match):
    """The match's text as spaces, its line breaks kept."""
    return re.sub(r"[^\n]", " ", match.group(0))


def _strip_code(text, markdown):
    """The page without code blocks, inline literals and what it reads from
    the results files, line for line (a removed line is left empty)."""
    for read in READ:
        text = read.sub(_blank, text)
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
    return re.sub(r"``.+?``" if not markdown else r"`[^`]+`", _blank, text, flags=re.S)


def _cites_benchmark(paragraph, files):
    return (":bench:" in paragraph or "bench-table::" in paragraph
            or "benchmarks/results" in paragraph
            or "benchmarks." in paragraph or any(f"{name}.md" in paragraph for name in files))


TABLE = re.compile(r"\s*\.\. (csv-table|list-table|table)::|\s*=+( +=+)+\s*$|\s*\|", re.M)
# A list block (rst or markdown bullets, numbered items).
LIST = re.compile(r"\s*([*+-]|\d+[.)]|#\.)\s")


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
    block that a citing paragraph ending in a colon introduces, a list (or
    list item) that follows a cited block, and a paragraph ending in a colon
    that follows one (``What it says:`` under a table introduces the list of
    what the table says)."""
    raw = page.read_text()
    markdown = page.suffix == ".md"
    files = manifest()
    quotes, previous, in_table, introduced = [], False, False, False
    stripped = _strip_code(raw, markdown).split("\n")
    for start, end in _paragraphs(raw.split("\n")):
        raw_par = "\n".join(raw.split("\n")[start:end])
        table = bool(TABLE.match(raw_par)) or (in_table and raw_par[:1].isspace())
        listed = bool(LIST.match(raw_par))
        colon = raw_par.rstrip().endswith(":")
        cited = _cites_benchmark(raw_par, files) or (
            previous and (table or introduced or listed or colon))
        if cited:
            quotes += [(n, line.strip()) for line in stripped[start:end]
                       for n in DECIMAL.findall(line)]
        previous, in_table = cited, table
        introduced = colon
    return quotes


def written_numbers(page):
    """The numbers of the page's benchmark contexts written by hand that
    ALLOWED does not list for it, as (number, line)."""
    allowed = ALLOWED.get(page.name, {})
    return [(n, line) for n, line in benchmark_quotes(page) if n not in allowed]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_bench_role_resolves(page):
    for spec in roles(page.read_text()):
        try:
            resolve(spec)
        except BenchError as error:  # pragma: no cover - the message is the point
            pytest.fail(f"{page.name}: {error}")


def _render(source):
    """The doctree docutils builds from a bench-table directive's source,
    and its error messages."""
    # docutils comes with Sphinx, in the docs extra; `make test` installs the
    # test extra only.
    pytest.importorskip("docutils", reason="needs docutils (the docs extra: "
                                           "pip install -e '.[docs]')")
    from docutils.core import publish_doctree
    from docutils.parsers.rst import directives

    directives.register_directive("bench-table", directive())
    tree = publish_doctree(textwrap.dedent(source),
                           settings_overrides={"report_level": 5, "halt_level": 5})
    errors = [m.astext() for m in tree.findall(lambda n: n.tagname == "system_message")]
    return tree, errors


def _rows(tree):
    """The cells of each body row of the doctree's one table."""
    return [[entry.astext() for entry in row.children]
            for body in tree.findall(lambda n: n.tagname == "tbody") for row in body.children]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_bench_table_resolves_to_the_files_cells(page):
    for source in bench_tables(page.read_text()):
        tree, errors = _render(source)
        assert not errors, f"{page.name}: {errors}"
        name = source.split("::")[1].split("|")[0].strip()
        file_rows = [list(r.values()) for t in read_tables(name) for r in t]
        assert _rows(tree), f"{page.name}: {source} shows no rows"
        for row in _rows(tree):
            assert any(set(row) <= set(cells) for cells in file_rows), (
                f"{page.name}: {row} is no row of {name}")


@pytest.mark.parametrize("page", WRITTEN, ids=lambda p: p.name)
def test_benchmark_numbers_are_read_not_written(page):
    written = written_numbers(page)
    assert not written, (
        f"{page.name} writes numbers by hand where it quotes a benchmark (read them "
        f"with :bench: or bench-table, or list them in ALLOWED with the reason):\n"
        + "\n".join(f"  {n}: {line[:160]}" for n, line in written))


def test_every_allowed_number_is_written_on_its_page():
    for page, numbers in ALLOWED.items():
        quoted = {n for p in WRITTEN if p.name == page for n, _ in benchmark_quotes(p)}
        for number, why in numbers.items():
            assert why, (page, number)
            assert number in quoted, f"{page}: {number} is allowed but not quoted; drop it"


def test_the_rule_on_a_made_up_page(tmp_path):
    page = tmp_path / "made_up.rst"
    page.write_text(
        "A design note: 0.123 in a paragraph that cites no benchmark.\n\n"
        "The front (``benchmarks/results/dev/front.md``) gives 0.456.\n\n"
        ".. csv-table::\n   :header: \"a\", \"b\"\n\n   \"x\", \"0.789\"\n\n"
        "Cited by ``python -m benchmarks.front``::\n\n    est.fit(X)  # 0.999 in code\n\n"
        "Quoted by role: :bench:`front | defaults | fit s (median)` in front.md.\n\n"
        "Copied from anomaly.md by hand: 0.975.\n\n"
        ".. bench-table:: embedding | 1\n   :rows: raw pixels, noise 0.3 + 3x3 occlusion\n")
    assert [n for n, _ in written_numbers(page)] == ["0.456", "0.789", "0.975"]
    assert "0.975" in {c for t in read_tables("anomaly") for r in t for c in r.values()}


def test_the_rule_skips_what_benchmarks_report_writes(tmp_path):
    page = tmp_path / "made_up.md"
    page.write_text("Per `front.md`, <!-- benchmarks.report: front -->0.931 at one thread"
                    "<!-- /benchmarks.report --> and 0.929 by hand.\n")
    assert [n for n, _ in written_numbers(page)] == ["0.929"]


def test_the_rule_reads_the_list_under_a_table(tmp_path):
    # "What it says:" under a table cites nothing itself; the list it
    # introduces, and each item of a list with blank lines between them,
    # stay in the table's benchmark context.
    page = tmp_path / "made_up.rst"
    page.write_text(
        ".. bench-table:: anomaly | digits\n   :columns: detector | fit s\n\n"
        "What it says:\n\n"
        "* OneClassSVM, 0.980, by hand.\n\n"
        "* And the next item: 0.012.\n\n"
        "A design note after the list: 0.123.\n")
    assert [n for n, _ in written_numbers(page)] == ["0.980", "0.012"]


def test_a_role_reads_one_table_of_a_file():
    # anomaly.md has a digits, a breast_cancer and a wine table with rows of
    # the same names: FILE#TITLE picks the table as bench-table does.
    row, column = "OneClassSVM", "mean AUROC over classes (± std over seeds, worst seed)"
    tables = {title.split()[0]: rows for title, rows in read_titled_tables("anomaly")}
    wine = next(r[column] for r in tables["wine"] if r["detector"] == row)
    digits = next(r[column] for r in tables["digits"] if r["detector"] == row)
    assert wine != digits
    assert resolve(f"anomaly#wine | {row} | {column}") == wine
    assert resolve(f"anomaly | {row} | {column}") == digits  # the first table, as before
    assert resolve(f"anomaly#3 | {row} | {column} | mean") == wine.split()[0]
    with pytest.raises(BenchError, match="the table 'wine' of anomaly"):
        resolve(f"anomaly#wine | no such detector | {column}")
    with pytest.raises(BenchError, match="no table under 'iris'"):
        resolve(f"anomaly#iris | {row} | {column}")
