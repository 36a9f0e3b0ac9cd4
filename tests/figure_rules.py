"""What every figure of the course must carry, checked on the live matplotlib objects.

``install()`` runs inside a notebook's kernel (the notebook test injects it as a first cell): after
each cell it inspects every open figure with ``figure_problems`` and closes it. ``report()`` returns
what was found, as JSON text, for the test to read from the last cell's output.

Rules, per figure:
- a title: a suptitle, or a title on every axes that shows something;
- on every axes that plots data (lines, markers, bars, contours; an image-only axes is exempt): an
  x label and a y label, its own or that of an axes it shares that axis with;
- a legend wherever two or more labelled lines or collections share one axes: each of their labels
  must appear in a legend of the figure (one legend may serve panels that draw the same lines).
"""

from __future__ import annotations

import json
import sys

_PROBLEMS: list[str] = []


def _shown(ax) -> bool:
    return ax.get_visible() and ax.axison and bool(ax.has_data())


def _has_plot_data(ax) -> bool:
    """Lines, scatter/contour collections or bars: things read against the axes' scales."""
    return bool(ax.lines or ax.collections or [p for p in ax.patches if p.get_visible()])


def _label(ax, axis: str) -> bool:
    """Whether this axes, or one sharing `axis` with it in the same figure, has a label on `axis`."""
    shared = ax.get_shared_x_axes() if axis == "x" else ax.get_shared_y_axes()
    siblings = [other for other in shared.get_siblings(ax) if other.figure is ax.figure]
    getter = "get_xlabel" if axis == "x" else "get_ylabel"
    return any(getattr(other, getter)().strip() for other in siblings)


def _labels(ax) -> list[str]:
    """Labels given to this axes' lines and collections (matplotlib's defaults start with '_')."""
    artists = list(ax.lines) + list(ax.collections)
    return [artist.get_label() for artist in artists if artist.get_label() and not artist.get_label().startswith("_")]


def _legend_texts(fig) -> set[str]:
    legends = [ax.get_legend() for ax in fig.get_axes() if ax.get_legend() is not None] + list(fig.legends)
    return {text.get_text() for legend in legends for text in legend.get_texts()}


def figure_problems(fig, where: str = "") -> list[str]:
    """What `fig` lacks, one line per problem, each naming the figure (`where`) and the axes."""
    problems = []
    axes = [ax for ax in fig.get_axes() if _shown(ax) and not hasattr(ax, "_colorbar")]
    axes = [ax for ax in axes if ax.get_label() != "<colorbar>"]
    suptitle = fig._suptitle.get_text().strip() if fig._suptitle is not None else ""
    if not suptitle and axes and not all(ax.get_title().strip() for ax in axes):
        problems.append(f"{where}: no title (neither a suptitle nor a title on every axes)")
    for number, ax in enumerate(axes, start=1):
        name = f"{where}, axes {number} ({ax.get_title().strip() or 'untitled'})"
        if _has_plot_data(ax):
            for axis in ("x", "y"):
                if not _label(ax, axis):
                    problems.append(f"{name}: no {axis} label")
        labels = _labels(ax)
        missing = sorted(set(labels) - _legend_texts(fig))
        if len(labels) >= 2 and missing:
            problems.append(f"{name}: {len(labels)} labelled lines, and no legend shows {missing}")
    return problems


def _after_cell(result=None) -> None:
    if "matplotlib.pyplot" not in sys.modules:  # nothing drawn yet; and importing NumPy here would come
        return                                  # before a notebook's own settings (OPENBLAS_NUM_THREADS)
    import matplotlib.pyplot as plt

    source = getattr(getattr(result, "info", None), "raw_cell", "") or ""
    cell = next((line.strip() for line in source.splitlines() if line.strip()), "")[:60]
    for number in plt.get_fignums():
        fig = plt.figure(number)
        _PROBLEMS.extend(figure_problems(fig, f"cell starting {cell!r}, figure {number}"))
        plt.close(fig)


def install() -> None:
    """Inspect (then close) the open figures after every cell of this kernel (run with MPLBACKEND=Agg, so
    that figures stay open until inspected)."""
    get_ipython().events.register("post_run_cell", _after_cell)  # noqa: F821 (IPython's global)


def report() -> str:
    return json.dumps(_PROBLEMS)
