"""The report's figures: matplotlib's SVG backend, returned as SVG data URIs for the page's ``<img>``s.

SVG rather than Agg PNG: one draw per figure instead of two (``pipeline.report.mpl.svg_document``), no
rasterising nor PNG encoding, ~0.15 CPU s less per report of three figures (issue 19); the page is smaller
for the report's bar and step charts and the figures stay sharp when zoomed (long training curves stay PNG:
``SVG_MAX_POINTS``). Text stays text (``svg.fonttype`` "none"): the browser draws it in DejaVu Sans,
matplotlib's font, or the first of matplotlib's fallbacks it has. Each function takes plain data
from stats.json, so the figures show exactly the numbers the tables show. matplotlib is imported by the
first figure (``pipeline.report.mpl``), never through pyplot.
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from contracts.corpus_stats import edge_range
from pipeline.report.mpl import PX_PER_INCH, figure_class, svg_document

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _figure(figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """A figure without pyplot: nothing registers it, so nothing needs closing."""
    fig = figure_class()(figsize=figsize)
    return fig, fig.add_subplot()


# Curves of more points than this (all series together) are embedded as a PNG: an SVG path spends ~30 bytes
# of the page a point (1,000 points: 48 kB against a PNG's 20 kB; 5,000: 158 kB against 19 kB), a PNG's
# size hardly grows with the points. The report's bar and step charts have tens of points.
SVG_MAX_POINTS = 1000


def _whole_numbers(axis: Any, values: Sequence[float]) -> None:
    """Ticks at whole numbers only when the bars are counts (documents, clusters): "1 document" has no 0.2."""
    if values and all(float(v).is_integer() for v in values):
        from matplotlib.ticker import MaxNLocator  # loaded with matplotlib by the figure

        axis.set_major_locator(MaxNLocator(integer=True))


def to_data_uri(fig: Figure) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg_document(fig).encode()).decode("ascii")


def png_data_uri(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=PX_PER_INCH, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _edge_label(edge: int) -> str:
    for unit, size in (("M", 1 << 20), ("k", 1 << 10)):
        if edge >= size:
            return f"{edge // size}{unit}"
    return str(edge)


def length_histograms(histograms: Mapping[str, Mapping[str, int]], measure: str, title: str,
                      sources: Sequence[str] = ()) -> str:
    """Documents per power-of-two length bucket, one line per source (``{source: {edge: docs}}``); a
    source keeps its colour (its place in ``sources``) in every plot."""
    edges = edge_range(int(e) for h in histograms.values() for e in h)
    fig, ax = _figure(figsize=(7, 3))
    for source, hist in sorted(histograms.items()):
        colour = f"C{list(sources).index(source) % 10}" if source in sources else None
        ax.step(range(len(edges)), [hist.get(str(e), 0) for e in edges], where="mid", label=source, color=colour)
    ax.set_xticks(range(len(edges)), [_edge_label(e) for e in edges], rotation=45)
    ax.set_xlabel(f"{measure} per document (bucket lower edge, powers of two)")
    ax.set_ylabel("documents")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return to_data_uri(fig)


def horizontal_bars(labels: Sequence[str], series: Mapping[str, Sequence[float]], title: str, xlabel: str) -> str:
    """Grouped horizontal bars: one group per label, one bar per series (e.g. run A and run B)."""
    n = max(len(series), 1)
    height = 0.8 / n
    fig, ax = _figure(figsize=(7, max(1.6, 0.32 * len(labels) * n + 0.8)))
    for i, (name, values) in enumerate(series.items()):
        ax.barh([y + i * height for y in range(len(labels))], values, height=height, label=name)
    ax.set_yticks([y + (n - 1) * height / 2 for y in range(len(labels))], labels)
    ax.invert_yaxis()
    _whole_numbers(ax.xaxis, [v for values in series.values() for v in values])
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    if len(series) > 1:
        ax.legend(fontsize=8)
    return to_data_uri(fig)


def vertical_bars(labels: Sequence[str], values: Sequence[float], title: str, xlabel: str, ylabel: str) -> str:
    fig, ax = _figure(figsize=(7, 2.8))
    ax.bar(range(len(labels)), values)
    ax.set_xticks(range(len(labels)), labels)
    _whole_numbers(ax.yaxis, values)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return to_data_uri(fig)


def curves(series: Mapping[str, tuple[Sequence[float], Sequence[float]]], title: str, xlabel: str,
           ylabel: str, log_y: bool = False) -> str:
    """Training curves: ``{name: (x, y)}``."""
    fig, ax = _figure(figsize=(7, 3))
    for name, (x, y) in sorted(series.items()):
        ax.plot(x, y, label=name, marker="o" if len(x) < 20 else None, markersize=3)
    if log_y:
        from matplotlib.ticker import LogFormatter  # loaded with matplotlib by the figure above

        ax.set_yscale("log")
        # plain numbers ("6", "8") where the default writes "8 x 10^0" on a loss range under a decade
        ax.yaxis.set_major_formatter(LogFormatter())
        ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    if sum(len(x) for x, _ in series.values()) > SVG_MAX_POINTS:
        return png_data_uri(fig)
    return to_data_uri(fig)
