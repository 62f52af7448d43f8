"""The report imports matplotlib on its first figure, never pyplot, and without mplot3d and the ``set()``
docstring listings (``pipeline.report.mpl``: ~0.12 of a report's ~0.58 CPU s, issue 19). Each check runs in
a fresh interpreter, since this test process may have imported matplotlib already."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# one figure of each kind, as the report draws them; prints the sha256 of each PNG data URI
FIGURES = """
import hashlib, json
from pipeline.report import plots
uris = [
    plots.length_histograms({"web": {"64": 3, "128": 9, "1024": 2}, "wiki": {"128": 4, "1048576": 1}}, "chars",
                            "filter output: chars per document", ["web", "wiki"]),
    plots.horizontal_bars(["language.low_score", "gopher_quality.min_words"], {"removed": [120, 210]},
                          "web: documents removed per rule", "documents"),
    plots.vertical_bars(["2", "3", "5"], [40, 7, 1], "clusters by size", "documents in cluster", "clusters"),
    plots.curves({"train": ([1, 2, 3], [4.0, 3.1, 2.5]), "val": ([1, 3], [4.2, 2.9])}, "loss", "step", "loss",
                 log_y=True),
]
print(json.dumps([hashlib.sha256(u.encode()).hexdigest() for u in uris]))
"""


LEAN = "from pipeline.report.mpl import lean_import_in_this_process\nlean_import_in_this_process()\n"


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True,
                          text=True).stdout


def test_matplotlib_is_imported_by_the_first_figure_without_pyplot_or_mplot3d() -> None:
    code = (LEAN + "import sys\nimport pipeline.report.html, pipeline.report.plots, pipeline.report.compare\n"
            "print('matplotlib' in sys.modules)\n" + FIGURES
            + "print(sorted(m for m in ('matplotlib.pyplot', 'mpl_toolkits.mplot3d') if m in sys.modules))\n")
    before, _, after = _run(code).splitlines()
    assert before == "False"
    assert after == "[]"


def test_the_figures_are_the_bytes_of_a_plain_matplotlib_import() -> None:
    """The docstrings and the held-back mplot3d change no pixel: the same PNGs as after a plain import."""
    lean = json.loads(_run(LEAN + FIGURES))
    plain = json.loads(_run("import matplotlib.figure, mpl_toolkits.mplot3d\n" + FIGURES))
    assert lean == plain and len(set(lean)) == 4


def test_the_rest_of_the_process_keeps_3d_axes_and_full_docstrings() -> None:
    code = (LEAN + "from pipeline.report.mpl import KWDOC_NOTE, figure_class\n"
            "import sys\nfigure = figure_class()\nfrom matplotlib.lines import Line2D\n"
            "print(KWDOC_NOTE in Line2D.set.__doc__, 'mpl_toolkits.mplot3d' in sys.modules)\n"
            "import matplotlib.artist\nprint('linewidth' in matplotlib.artist.kwdoc(Line2D))\n"
            "fig = figure()\nax = fig.add_subplot(projection='3d')\n"
            "from mpl_toolkits.mplot3d import Axes3D\nprint(type(ax) is Axes3D, fig.add_subplot(projection='3d').name)\n"
            "ax.plot([0, 1], [0, 1], [0, 1])\nfig.savefig(__import__('io').BytesIO(), format='png')\n")
    lean_docs, kwdoc_restored, axes3d = _run(code).splitlines()
    assert lean_docs == "True False"  # the import skipped both; nothing else does
    assert kwdoc_restored == "True"
    assert axes3d == "True 3d"


def test_an_earlier_matplotlib_import_is_left_alone() -> None:
    code = (LEAN + "import matplotlib.figure\nfrom matplotlib.lines import Line2D\n"
            "from pipeline.report.mpl import KWDOC_NOTE, figure_class\nfigure_class()\n"
            "from matplotlib import projections\nprint(KWDOC_NOTE in Line2D.set.__doc__, "
            "projections.get_projection_class('3d').__module__)\n")
    assert _run(code).split() == ["False", "mpl_toolkits.mplot3d.axes3d"]


def test_a_figure_is_deterministic() -> None:
    first, second = (hashlib.sha256(_run(LEAN + FIGURES).encode()).digest() for _ in range(2))
    assert first == second


def test_a_library_caller_gets_matplotlib_imported_plainly() -> None:
    """Importing the report (a notebook, the tests) never patches matplotlib: full docstrings, mplot3d as usual."""
    code = ("import sys\nfrom pipeline.report.mpl import KWDOC_NOTE, figure_class\nfigure_class()\n"
            "from matplotlib.lines import Line2D\n"
            "print(KWDOC_NOTE in Line2D.set.__doc__, 'mpl_toolkits.mplot3d' in sys.modules)\n")
    assert _run(code).split() == ["False", "True"]


def test_the_command_line_asks_for_the_lean_import() -> None:
    code = ("import pipeline.__main__ as m, pipeline.report.mpl as mpl\nprint(mpl._lean)\n"
            "try:\n    m.main(['--help'])\nexcept SystemExit:\n    pass\nprint(mpl._lean)\n")
    assert _run(code).split()[0] == "False" and _run(code).split()[-1] == "True"
