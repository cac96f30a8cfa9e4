"""The ``:bench:`` role: a number of the user guide read from a benchmark's
results file when the documentation builds, so that a rerun
(``python -m benchmarks.run NAME``) updates the page.

    :bench:`FILE | ROW | COLUMN`            the cell, as the table has it
    :bench:`FILE | ROW | COLUMN | PART`     one number of the cell

FILE is a results file's name (``front``, ``clustering-nvc``; the
manifest ``benchmarks/runs.toml`` says which folder it is in). ROW names
a row by its leading cells joined by ", " (``digits, UMAP+GaussianMixture``
is the row whose first cell is digits and second UMAP+GaussianMixture;
``hidden_dims=(128, 128)`` the row whose first cell is that; the first
such row of the file that has COLUMN is used). COLUMN is the
header's text. PART picks a number out of a cell such as
``0.931 ± 0.001 (0.929)``: ``mean`` (the first number), ``std`` (the one
after ±), ``worst`` (the one in brackets), ``mean (worst)`` (both, as
``0.931 (0.929)``), or ``N`` (the N-th number, from 0). A spec that
names no row, column or file fails the build.
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


def _tables(name):
    from benchmarks._common import read_tables, result_path

    if not result_path(name).exists():
        raise BenchError(f"no results file {name!r} (benchmarks/runs.toml)")
    return read_tables(name)


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


def resolve(spec):
    """The text ``:bench:`spec``` stands for."""
    parts = [p.strip() for p in spec.split("|")]
    if len(parts) not in (3, 4):
        raise BenchError(f"{spec}: expected FILE | ROW | COLUMN [| PART]")
    name, row, column = parts[:3]
    columns = []
    for table in _tables(name):
        for r in table:
            cells = list(r.values())
            if any(", ".join(cells[:n]) == row for n in range(1, len(cells) + 1)):
                if column in r:
                    return _part(r[column], parts[3] if len(parts) == 4 else None, spec)
                columns.append(list(r))
    if columns:
        raise BenchError(f"{spec}: no column {column!r} in the rows {row!r} (columns: {columns})")
    raise BenchError(f"{spec}: no row starting {row!r} in {name}")


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


def setup(app):
    app.add_role("bench", _role)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
