"""Draw docs/tour.png, the README's figure, from the current code: notebook 01's geometry figure
(RX buffers per page and memory pinned per queue by MTU, before and after MANA's fragment patch,
computed at every MTU so that the steps fall at the kernel's own thresholds).

    python docs/make_tour.py [OUT.png]      # default: docs/tour.png
"""

import sys
from pathlib import Path

from rxlab.studies.geometry import geometry_frame
from rxlab.views.plots import plot_geometry

TOUR = Path(__file__).with_name("tour.png")
DPI = 84  # the figure is 12 x 4.4 in: about 1000 x 370 pixels, the README's width


def make_tour(out=TOUR):
    fig = plot_geometry(geometry_frame(mtus=range(576, 9001), xdp=(False,)))
    fig.savefig(out, dpi=DPI)
    return Path(out)


if __name__ == "__main__":
    print(make_tour(sys.argv[1] if len(sys.argv) > 1 else TOUR))
