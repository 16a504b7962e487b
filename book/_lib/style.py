# The book's plot style, one for every chapter. A chapter loads this
# file into the code cell after its imports (`:load: _lib/style.py`):
# the build copies the code in, so a chapter's downloaded notebook
# holds it and draws alike wherever it is opened.
from cycler import cycler

STYLE = {
    # size and resolution of the PNGs stored in the notebook
    "figure.figsize": (7.0, 3.6),
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "savefig.bbox": "tight",
    # opaque white figures, never transparent: the dark theme cannot
    # put black ink on a dark page
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    # text
    "font.size": 11,
    "axes.titlesize": 11,
    "axes.labelsize": 11,
    "legend.fontsize": 10,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "mathtext.fontset": "cm",
    # axes: light grid, no top or right spine
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linestyle": "-",
    "axes.axisbelow": True,
    "axes.titlelocation": "left",
    # the Okabe-Ito palette, safe for colour-blind readers
    "axes.prop_cycle": cycler(color=["#0072B2", "#D55E00", "#009E73",
                                     "#E69F00", "#CC79A7", "#56B4E9",
                                     "#000000"]),
    "lines.linewidth": 2.0,
    "legend.frameon": False,
}
plt.style.use(STYLE)
