"""The ``:bench:`` role: a number of the user guide read from a benchmark's
results file when the documentation builds, so that a rerun
(``python -m benchmarks.run NAME``) updates the page.

    :bench:`FILE | ROW | COLUMN`            the cell, as the table has it
    :bench:`FILE | ROW | COLUMN | PART`     one number of the cell
    :bench:`FILE#TITLE | ROW | COLUMN`      the cell of one table of the file

FILE is a results file's name (``front``, ``clustering-nvc``; the
manifest ``benchmarks/runs.toml`` says which folder it is in). ROW names
a row by its leading cells joined by ", " (``digits, UMAP+GaussianMixture``
is the row whose first cell is digits and second UMAP+GaussianMixture;
``hidden_dims=(128, 128)`` the row whose first cell is that; the first
such row of the file that has COLUMN is used). ``#TITLE`` after FILE
looks in one table only, picked as ``bench-table`` picks it (below):
``anomaly#wine | OneClassSVM | worst class AUROC`` is the cell of the
table under ``### wine (178 samples, 3 classes)``, where the file's
digits and breast_cancer tables have rows of the same names. COLUMN is
the header's text. PART picks a number out of a cell such as
``0.931 ± 0.001 (0.929)``: ``mean`` (the first number), ``std`` (the one
after ±), ``worst`` (the one in brackets), ``mean (worst)`` (both, as
``0.931 (0.929)``), or ``N`` (the N-th number, from 0). A spec that
names no row, column or file fails the build.

The ``bench-table`` directive shows a table of a results file::

    .. bench-table:: FILE | TITLE
       :columns: HEADER | HEADER -> LABEL | ...
       :rows: ROW | ROW | ...
       :caption: the table's title on the page

TITLE picks the table: the first one under the heading TITLE (the
heading's text, or its start up to a space or bracket: ``digits`` for
``### digits (1797 samples, 10 classes)``), or a number N for the N-th
table of the file, from 1. ``:columns:`` picks and orders the columns by
their header's text (items separated by ``|``, or by commas where there is
no ``|``); ``HEADER -> LABEL`` shows the column under another heading.
``:rows:`` picks and orders the rows, each named as the role names one
(``|``-separated, as row names hold commas). Without them every column
and row shows, as the file has them. The cells are plain text.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


class BenchError(ValueError):
    pass


def _tables(name, titled=False):
    """The tables of results file ``name`` (read_tables), or with
    ``titled`` their (heading, rows) pairs (read_titled_tables)."""
    from benchmarks._common import read_tables, read_titled_tables, result_path

    if not result_path(name).exists():
        raise BenchError(f"no results file {name!r} (benchmarks/runs.toml)")
    return read_titled_tables(name) if titled else read_tables(name)


def _part(cell, part, spec):
    if part is None:
        return cell
    numbers = NUMBER.findall(cell)
    if part == "mean (worst)":
        return f"{_part(cell, 'mean', spec)} ({_part(cell, 'worst', spec)})"
    if part == "mean":
        picked = numbers[:1]
    elif part == "std":
        picked = re.findall(r"± (\S+)", cell)
    elif part == "worst":
        picked = re.findall(r"\((-?\d[\d,.]*)\)", cell)
    elif part.isdigit():
        picked = numbers[int(part):int(part) + 1]
    else:
        raise BenchError(f"{spec}: unknown part {part!r} (mean, std, worst or a number)")
    if not picked:
        raise BenchError(f"{spec}: the cell {cell!r} has no {part}")
    return picked[0]


def _named(r, row):
    """Whether the leading cells of row dict ``r``, joined by ", ", are ``row``."""
    cells = list(r.values())
    return any(", ".join(cells[:n]) == row for n in range(1, len(cells) + 1))


def resolve(spec):
    """The text ``:bench:`spec``` stands for."""
    parts = [p.strip() for p in spec.split("|")]
    if len(parts) not in (3, 4):
        raise BenchError(f"{spec}: expected FILE[#TITLE] | ROW | COLUMN [| PART]")
    source, row, column = parts[:3]
    name, _, title = (p.strip() for p in source.partition("#"))
    tables = [_titled(name, title, spec)] if title else _tables(name)
    where = f"the table {title!r} of {name}" if title else name
    columns = []
    for table in tables:
        for r in table:
            if _named(r, row):
                if column in r:
                    return _part(r[column], parts[3] if len(parts) == 4 else None, spec)
                columns.append(list(r))
    if columns:
        raise BenchError(f"{spec}: no column {column!r} in the rows {row!r} of {where} "
                         f"(columns: {columns})")
    raise BenchError(f"{spec}: no row starting {row!r} in {where}")


def _titled(name, title, spec):
    """The rows of the table ``title`` picks in results file ``name``."""
    tables = _tables(name, titled=True)
    if title.isdigit():
        if not 1 <= int(title) <= len(tables):
            raise BenchError(f"{spec}: {name} has {len(tables)} tables")
        return tables[int(title) - 1][1]
    for heading, rows in tables:
        if heading == title or re.match(re.escape(title) + r"[ (\[]", heading):
            return rows
    raise BenchError(f"{spec}: no table under {title!r} "
                     f"(headings: {[h for h, _ in tables]})")


def _items(option, separators="|,"):
    """The items of an option's value: split at ``|`` where it holds one,
    else at the next separator."""
    separator = next((s for s in separators if s in option), "|")
    return [item.strip() for item in option.split(separator) if item.strip()]


def table(spec, columns=None, rows=None):
    """The labels and rows (lists of cells) that ``.. bench-table:: spec``
    shows with those ``:columns:`` and ``:rows:`` options."""
    parts = [p.strip() for p in spec.split("|")]
    if len(parts) != 2:
        raise BenchError(f"{spec}: expected FILE | TITLE")
    body = _titled(*parts, spec)
    if not body:
        raise BenchError(f"{spec}: the table has no rows")
    pairs = [(c.split("->")[0].strip(), c.split("->")[-1].strip())
             for c in (_items(columns) if columns else list(body[0]))]
    missing = [header for header, _ in pairs if header not in body[0]]
    if missing:
        raise BenchError(f"{spec}: no column {missing} (columns: {list(body[0])})")
    picked = body
    if rows:
        picked = []
        for row in _items(rows, "|"):
            match = next((r for r in body if _named(r, row)), None)
            if match is None:
                raise BenchError(f"{spec}: no row starting {row!r}")
            picked.append(match)
    return [label for _, label in pairs], [[r[h] for h, _ in pairs] for r in picked]


ROLE = re.compile(r":bench:`([^`]+)`")


def roles(text):
    """The specs of every ``:bench:`` role in ``text``."""
    return ROLE.findall(text)


def _role(name, rawtext, text, lineno, inliner, options=None, content=None):
    from docutils import nodes

    try:
        value = resolve(text)
    except BenchError as error:
        message = inliner.reporter.error(str(error), line=lineno)
        return [inliner.problematic(rawtext, rawtext, message)], [message]
    return [nodes.Text(value)], []


def _table_node(labels, rows, caption):
    """A docutils table of plain-text cells, the first row its header."""
    from docutils import nodes

    def row(cells):
        return nodes.row("", *(nodes.entry("", nodes.paragraph(text=c)) for c in cells))

    group = nodes.tgroup(cols=len(labels))
    group += [nodes.colspec(colwidth=1) for _ in labels]
    group += nodes.thead("", row(labels))
    group += nodes.tbody("", *(row(r) for r in rows))
    node = nodes.table()
    if caption:
        node += nodes.title(text=caption)
    node += group
    return node


def directive():
    """The ``bench-table`` directive class (made on demand, so that reading
    the module, as resolve and table need, imports no docutils)."""
    from docutils.parsers.rst import Directive, directives

    class BenchTable(Directive):
        required_arguments = 1
        final_argument_whitespace = True
        option_spec = {"columns": directives.unchanged, "rows": directives.unchanged,
                       "caption": directives.unchanged}

        def run(self):
            try:
                labels, rows = table(self.arguments[0], self.options.get("columns"),
                                     self.options.get("rows"))
            except BenchError as error:
                raise self.error(str(error))
            return [_table_node(labels, rows, self.options.get("caption"))]

    return BenchTable


# A directive's source: its line and the more indented option lines below.
DIRECTIVE = re.compile(
    r"^(?P<indent> *)\.\. bench-table::.*\n(?:(?P=indent) +\S.*(?:\n|$))*", re.M)


def bench_tables(text):
    """The ``bench-table`` directives of ``text``, each as its source."""
    return [m.group(0) for m in DIRECTIVE.finditer(text)]


def setup(app):
    app.add_role("bench", _role)
    app.add_directive("bench-table", directive())
    return {"parallel_read_safe": True, "parallel_write_safe": True}
