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

import io
import re
import sys
import warnings
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# svg.hashsalt: the SVG backend names clip paths by a hash salted with a fresh uuid unless this is set
RC = {"font.size": 9, "axes.spines.top": False, "axes.spines.right": False, "svg.fonttype": "none",
      "svg.hashsalt": "refinery-report"}
KWDOC_NOTE = "(property list not built: matplotlib was imported by pipeline.report.mpl)"
_MPLOT3D = "mpl_toolkits.mplot3d"

PX_PER_INCH = 90  # the size a figure is shown at (CSS px per figure inch), as the PNGs were at dpi 90
PT_PER_INCH = 72  # SVG user units are points
SVG_METADATA = {"Date": None}  # no timestamp: the same run gives the same bytes
_ROOT_SIZE = re.compile(r'width="[^"]*" height="[^"]*" viewBox="[^"]*"')

_figure: type[Figure] | None = None
_lean = False


def lean_import_in_this_process() -> None:
    """Import matplotlib without the docstring listings and mplot3d when the first figure needs it (see above)."""
    global _lean
    _lean = True


def figure_class() -> type[Figure]:
    """``Figure``, importing matplotlib on the first call (with the report's rc settings)."""
    global _figure
    if _figure is None:
        if _lean and "matplotlib.figure" not in sys.modules:
            with _lean_import():
                import matplotlib.figure  # noqa: F401
        import matplotlib
        from matplotlib.figure import Figure

        matplotlib.rcParams.update(RC)
        _figure = Figure
    return _figure


def svg_document(fig: Figure) -> str:
    """The figure as an SVG document cropped to what it draws (as ``bbox_inches="tight"`` crops), from one
    draw: the tight box is read from the renderer that drew the figure, then set as the root's viewBox
    (which may start left of or above the figure, where long tick labels reach). ``savefig`` with
    ``bbox_inches="tight"`` draws twice, the second time on a new renderer that lays out every text again
    (the report's three figures, drawn to SVG: 0.20 -> 0.12 CPU s; issue 19). Shown at ``PX_PER_INCH`` CSS
    px per inch."""
    import matplotlib
    from matplotlib.backends.backend_mixed import MixedModeRenderer
    from matplotlib.backends.backend_svg import RendererSVG

    fig.set_dpi(PT_PER_INCH)
    width, height = fig.get_size_inches()
    buffer = io.StringIO()
    renderer = MixedModeRenderer(fig, width, height, PT_PER_INCH,
                                 RendererSVG(width * PT_PER_INCH, height * PT_PER_INCH, buffer,
                                             metadata=SVG_METADATA))
    fig.draw(renderer)
    renderer.finalize()
    box = fig.get_tightbbox(renderer).padded(matplotlib.rcParams["savefig.pad_inches"])
    x0, top = box.x0 * PT_PER_INCH, (height - box.y1) * PT_PER_INCH  # SVG's y axis points down
    size = (f'width="{box.width * PX_PER_INCH:.1f}" height="{box.height * PX_PER_INCH:.1f}" '
            f'viewBox="{x0:.2f} {top:.2f} {box.width * PT_PER_INCH:.2f} {box.height * PT_PER_INCH:.2f}"')
    svg, found = _ROOT_SIZE.subn(size, buffer.getvalue(), count=1)
    if not found:
        raise RuntimeError("matplotlib's SVG root has no width/height/viewBox to crop")
    return svg


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
