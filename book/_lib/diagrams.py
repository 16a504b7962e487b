# The helpers that draw the book's box-and-arrow diagrams, one copy for
# the chapters that draw them (`:load: _lib/diagrams.py`; the build
# copies this file into the cell).
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

COLORS = {"x": "#FBE3C4", "cell": "#BBD6EE", "h": "#DCEAF6",
          "y": "#D4EFE4", "mem": "#EEEEEE", "dec": "#E3D7EF"}


def diagram(n_panels=1, figsize=(7.5, 3.0), width_ratios=None):
    fig, axes = plt.subplots(1, n_panels, figsize=figsize, squeeze=False,
                             gridspec_kw={"width_ratios": width_ratios})
    for ax in axes[0]:
        ax.set_aspect("equal")
        ax.axis("off")
    return fig, axes[0]


def node(ax, x, y, text, kind, w=0.9, h=0.6, size=13, ls="-"):
    style = "round,pad=0.02,rounding_size=0.12"
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h,
                                boxstyle=style, facecolor=COLORS[kind],
                                edgecolor="0.25", linewidth=1.2,
                                linestyle=ls))
    ax.text(x, y, text, ha="center", va="center", fontsize=size)


def arrow(ax, start, end, label=None, label_xy=None, rad=0.0, ls="-",
          color="0.2", conn=None, size=12):
    style = conn or f"arc3,rad={rad}"
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>",
                                 mutation_scale=12, linewidth=1.3,
                                 color=color, linestyle=ls, shrinkA=0,
                                 shrinkB=0, connectionstyle=style))
    if label is not None:
        ax.text(*label_xy, label, ha="center", va="center", fontsize=size,
                color=color)
