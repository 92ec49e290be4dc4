"""Charts rendered into the report with matplotlib (a maintained plotting library; SVG output needs no
browser script and stays readable offline). Output is deterministic: fixed hash salt, no date."""

from __future__ import annotations

import base64
import io


def _svg(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"svg.hashsalt": "course-report", "svg.fonttype": "none", "font.size": 9})
    import matplotlib.pyplot as plt

    return plt


def histogram(values: list[float], xlabel: str, ylabel: str) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 2.4))
    ax.hist(values, bins=[i * 10 for i in range(11)], color="#1f5f8b", edgecolor="white")
    ax.set_xlim(0, 100)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def bars(labels: list[str], values: list[float], xlabel: str, low: float, high: float) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 0.3 * len(labels) + 0.8))
    colors = ["#a33" if v < low or v > high else "#1f5f8b" for v in values]
    ax.barh(range(len(values)), values, color=colors)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.axvline(low, color="#555", linewidth=0.8, linestyle=":")
    ax.axvline(high, color="#555", linewidth=0.8, linestyle=":")
    ax.set_xlabel(xlabel)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)
