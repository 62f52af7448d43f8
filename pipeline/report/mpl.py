"""matplotlib for the report's figures, imported on the first figure and without two import-time costs a
report never uses.

Importing ``matplotlib.figure`` costs ~0.28 CPU s, about half of a small run's whole report. Two parts of it
draw nothing: every ``Artist`` subclass builds a property listing for its ``set()`` docstring
(``matplotlib.artist.kwdoc``, run once per class while its module executes), and ``matplotlib.projections``
imports ``mpl_toolkits.mplot3d`` to register the "3d" projection. Together ~0.12 s. While this module imports
``matplotlib.figure`` the docstring builder returns a short note (docstrings only: the setters, their
signatures and every figure are unchanged) and mplot3d's import is held back; the "3d" projection is then
registered as a stand-in that imports the real ``Axes3D`` on its first use, so other code in the process still
gets 3-D axes. Where ``matplotlib.figure`` is already imported, nothing is patched.

The lean import changes matplotlib's own docstrings for the rest of the process, so only a process of its own
asks for it: ``python -m pipeline`` and the ``refinery`` script call ``lean_import_in_this_process`` (as they
freeze the collector and choose Arrow's pool); a caller that imports the report (a notebook, the tests) gets
matplotlib imported plainly, on the first figure.
"""

from __future__ import annotations

import sys
import warnings
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

RC = {"font.size": 9, "axes.spines.top": False, "axes.spines.right": False, "svg.fonttype": "none"}
KWDOC_NOTE = "(property list not built: matplotlib was imported by pipeline.report.mpl)"
_MPLOT3D = "mpl_toolkits.mplot3d"

_classes: tuple[type[Figure], type[FigureCanvasAgg]] | None = None
_lean = False


def lean_import_in_this_process() -> None:
    """Import matplotlib without the docstring listings and mplot3d when the first figure needs it (see above)."""
    global _lean
    _lean = True


def figure_classes() -> tuple[type[Figure], type[FigureCanvasAgg]]:
    """``Figure`` and the Agg canvas, importing matplotlib on the first call (with the report's rc settings)."""
    global _classes
    if _classes is None:
        if _lean and "matplotlib.figure" not in sys.modules:
            with _lean_import():
                import matplotlib.figure  # noqa: F401
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        matplotlib.rcParams.update(RC)
        _classes = Figure, FigureCanvasAgg
    return _classes


@contextmanager
def _lean_import() -> Iterator[None]:
    import matplotlib.artist as artist

    kwdoc = artist.kwdoc
    hold_3d = _MPLOT3D not in sys.modules
    artist.kwdoc = _kwdoc_note
    if hold_3d:
        sys.modules[_MPLOT3D] = None  # type: ignore[assignment]  # makes its import raise ImportError
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Unable to import Axes3D")
            yield
    finally:
        artist.kwdoc = kwdoc
        if hold_3d and sys.modules.get(_MPLOT3D, 0) is None:
            del sys.modules[_MPLOT3D]
    from matplotlib import projections

    if hold_3d and "3d" not in projections.get_projection_names():
        projections.register_projection(_Axes3DOnFirstUse)


def _kwdoc_note(artist: Any) -> str:
    return KWDOC_NOTE


class _Axes3DOnFirstUse:
    """The "3d" projection until it is first asked for: then mplot3d is imported, its ``Axes3D`` takes this
    entry's place in the registry and makes the axes."""

    name = "3d"

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        from matplotlib import projections
        from mpl_toolkits.mplot3d import Axes3D

        projections.register_projection(Axes3D)
        projections.Axes3D = Axes3D
        return Axes3D(*args, **kwargs)
