"""The report's figures are SVG documents drawn once, cropped exactly as matplotlib's ``bbox_inches="tight"``
crops, shown at the PNGs' former size and self-contained (``pipeline.report.mpl.svg_document``, issue 19);
curves of many points stay PNG."""

from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET
from typing import Any, Callable

import pytest

from pipeline.report import plots
from pipeline.report.mpl import PT_PER_INCH, PX_PER_INCH

SVG = "{http://www.w3.org/2000/svg}"
LONG_LABEL = "gopher_repetition.max_dup_para_frac"

# the four kinds of figure, as the report draws them, with every text each must show
KINDS: dict[str, tuple[Callable[[], str], list[str]]] = {
    "histogram": (lambda: plots.length_histograms({"web": {"64": 3, "128": 9, "1024": 2}, "wiki": {"128": 4}},
                                                  "chars", "filter output: chars per document", ["web", "wiki"]),
                  ["filter output: chars per document", "documents", "64", "128", "1k", "web", "wiki",
                   "chars per document (bucket lower edge, powers of two)"]),
    "bars": (lambda: plots.horizontal_bars(["language.low_score", LONG_LABEL], {"A": [120, 210], "B": [80, 20]},
                                           "web: documents removed per rule", "documents"),
             ["web: documents removed per rule", "documents", "language.low_score", LONG_LABEL, "A", "B"]),
    "columns": (lambda: plots.vertical_bars(["2", "3", "5"], [40, 7, 1], "clusters by size", "documents in cluster",
                                            "clusters"),
                ["clusters by size", "documents in cluster", "clusters", "2", "3", "5"]),
    "curves": (lambda: plots.curves({"train": ([1, 2, 3], [4.0, 3.1, 2.5]), "val": ([1, 3], [4.2, 2.9])}, "loss",
                                    "step", "loss value"),
               ["loss", "step", "loss value", "train", "val"]),
}


def _svg(uri: str) -> str:
    prefix = "data:image/svg+xml;base64,"
    assert uri.startswith(prefix), uri[:40]
    return base64.b64decode(uri[len(prefix):]).decode()


def _box(root: ET.Element) -> list[float]:
    return [float(v) for v in root.get("viewBox", "").split()]


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_figure_is_an_svg_with_every_text(kind: str) -> None:
    make, texts = KINDS[kind]
    root = ET.fromstring(_svg(make()))
    shown = {"".join(t.itertext()).strip() for t in root.iter(f"{SVG}text")}
    assert set(texts) <= shown, set(texts) - shown
    x, y, width, height = _box(root)
    for text in root.iter(f"{SVG}text"):  # each text's anchor (x, y, or a rotated text's translate) in the crop
        moved = re.match(r"translate\(([-\d.]+) ([-\d.]+)\)", text.get("transform", ""))
        at_x, at_y = map(float, moved.groups() if moved else (text.get("x", "nan"), text.get("y", "nan")))
        assert x <= at_x <= x + width and y <= at_y <= y + height
    # shown at the size the PNGs had (dpi 90): 90 CSS px per figure inch, the viewBox in points
    assert float(root.get("width", 0)) == pytest.approx(width * PX_PER_INCH / PT_PER_INCH, abs=0.1)
    assert float(root.get("height", 0)) == pytest.approx(height * PX_PER_INCH / PT_PER_INCH, abs=0.1)
    assert width > 300 and height > 100


def test_each_figure_is_drawn_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib.figure import Figure

    draws: list[Any] = []
    draw = Figure.draw

    def counted(self: Figure, renderer: Any) -> None:
        draws.append(renderer)
        draw(self, renderer)

    monkeypatch.setattr(Figure, "draw", counted)
    for make, _ in KINDS.values():
        draws.clear()
        make()
        assert len(draws) == 1


def test_the_crop_is_matplotlibs_tight_box(monkeypatch: pytest.MonkeyPatch) -> None:
    """The viewBox is the box ``savefig(bbox_inches="tight")`` would keep, long tick labels left of the figure
    included (the viewBox then starts at a negative x)."""
    figures: list[Any] = []
    to_data_uri = plots.to_data_uri
    monkeypatch.setattr(plots, "to_data_uri", lambda fig: figures.append(fig) or to_data_uri(fig))
    boxes = [_box(ET.fromstring(_svg(make()))) for make, _ in KINDS.values()]
    assert len(figures) == len(KINDS)
    for fig, ours in zip(figures, boxes):
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
        tight = ET.fromstring(buffer.getvalue())
        assert ours[2:] == pytest.approx([float(tight.get(k, "").removesuffix("pt")) for k in ("width", "height")],
                                         abs=0.01)
    assert boxes[list(KINDS).index("bars")][0] < 0  # the long rule names reach left of the figure and are kept


def test_a_figure_refers_to_nothing_outside_itself() -> None:
    for make, _ in KINDS.values():
        svg = _svg(make())
        assert all(ref.startswith("#") for ref in re.findall(r'href="([^"]*)"', svg))
        assert all(ref.startswith("#") for ref in re.findall(r"url\(([^)]*)\)", svg))
        assert "<image" not in svg and "@import" not in svg


def test_curves_of_many_points_are_png() -> None:
    def curve(n: int) -> str:
        xs = list(range(n))
        return plots.curves({"train": (xs, [1 / (1 + x) for x in xs])}, "loss", "step", "loss", log_y=True)

    assert curve(plots.SVG_MAX_POINTS).startswith("data:image/svg+xml;base64,")
    many = curve(plots.SVG_MAX_POINTS + 1)
    assert many.startswith("data:image/png;base64,")
    assert base64.b64decode(many.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def _texts(uri: str) -> set[str]:
    return {"".join(t.itertext()).strip() for t in ET.fromstring(_svg(uri)).iter(f"{SVG}text")}


def test_count_axes_have_whole_number_ticks_only() -> None:
    # one document removed by each rule: the axis read 0.0, 0.2, ... 1.0 ("0.4 documents")
    counts = _texts(plots.horizontal_bars(["language.low_score", LONG_LABEL], {"removed": [1, 1]}, "wiki", "documents"))
    assert {"0", "1"} <= counts and not any(re.fullmatch(r"\d\.\d", t) for t in counts)
    clusters = _texts(plots.vertical_bars(["2"], [1], "clusters by size", "documents in cluster", "clusters"))
    assert not any(re.fullmatch(r"\d\.\d", t) for t in clusters)
    # shares keep their fractions
    shares = _texts(plots.horizontal_bars(["web", "wiki"], {"target": [0.3, 0.7]}, "mixture", "share of tokens"))
    assert any(re.fullmatch(r"0\.\d", t) for t in shares)
