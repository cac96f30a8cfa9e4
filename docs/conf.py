"""Sphinx configuration for sknebula's documentation.

Build with ``bash docs/build.sh`` (warnings are errors). Offline by design:
no intersphinx (its inventories would have to be downloaded).
"""

import os
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
# Examples run with one torch thread: quick, and reproducible.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import sknebula  # noqa: E402
from _api import write_api_page  # noqa: E402

project = "sknebula"
author = "sknebula developers"
copyright = "sknebula developers"
release = version = sknebula.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    # :bench:`FILE | ROW | COLUMN` reads a number from benchmarks/results/
    # when the pages build (docs/_bench.py).
    "_bench",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
root_doc = "index"
default_role = "literal"

# The API page lists every public name, read from __all__ at build time, so
# a new estimator shows up without editing any rst file.
write_api_page(HERE / "api.rst")
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = False
numpydoc_xref_param_type = False

sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    # Only plot_*.py files are gallery examples (and all of them run);
    # other scripts in examples/ (e.g. quickstart.py) stay plain scripts.
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"^(?!plot_)",  # matched against the file name
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    # "Examples using X" mini-galleries on the API pages.
    "doc_module": ("sknebula",),
    "backreferences_dir": "generated/backreferences",
}

html_theme = "pydata_sphinx_theme"
html_title = f"sknebula {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": False,
    "header_links_before_dropdown": 6,
}
html_static_path = []
html_show_sourcelink = False


# ----------------------------------------------------------------- hooks
# numpydoc emits a parameter's type as reStructuredText, where ``name_`` is
# a hyperlink reference and ``*`` starts emphasis; types such as
# "ndarray of shape (n_features_in_,)" or "(n, *input_shape_)" are common
# in scikit-learn style docstrings. Escape them in type lines only.
_PARAM_LINE = re.compile(r"^(\s*[\w*][\w, *]* : )(.+)$")


def _escape_types(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        match = _PARAM_LINE.match(line)
        if not match or "``" in match.group(2) or "`" in match.group(2):
            continue
        kind = re.sub(r"(?<=\w)_(?=\W|$)", r"\\_", match.group(2))
        kind = kind.replace("*", r"\*")
        lines[i] = match.group(1) + kind


def _skip_sklearn_members(app, what, name, obj, skip, options):
    # Inherited scikit-learn API (get_params, set_output, metadata routing
    # requests...) is documented by scikit-learn; its docstrings point at
    # scikit-learn's own pages, which do not exist here.
    module = getattr(obj, "__module__", None) or ""
    if what == "class" and module.split(".")[0] == "sklearn":
        return True
    return None


def setup(app):
    app.connect("autodoc-process-docstring", _escape_types, priority=400)
    app.connect("autodoc-skip-member", _skip_sklearn_members)
