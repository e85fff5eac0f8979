"""Figures. Each function takes a tidy frame and returns a matplotlib Figure."""

import matplotlib.pyplot as plt


def plot_geometry(frame):
    """Buffers per page and RX memory per queue against MTU, pre vs post patch, per page size."""
    ok = frame[(frame["error"] == "") & (~frame["xdp"])]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    colors = {p: f"C{i}" for i, p in enumerate(sorted(ok["page_size"].unique()))}
    for (variant, page_size), g in ok.groupby(["variant", "page_size"], observed=True):
        g = g.sort_values("mtu")
        style = {"ls": "-", "marker": "o"} if variant == "post" else {"ls": "--", "marker": "s"}
        kw = {"color": colors[page_size], "label": f"{variant}, {page_size // 1024} KB pages", "ms": 4, **style}
        ax1.plot(g["mtu"], g["frags_per_page"], **kw)
        ax2.plot(g["mtu"], g["ring_bytes"] / 2**20, **kw)
    ax1.set(xlabel="MTU", ylabel="RX buffers per page", title="Buffers per page (no XDP)", yscale="log")
    ax2.set(xlabel="MTU", ylabel="MiB pinned per RX queue", yscale="log",
            title=f"RX memory per queue, ring of {int(ok['ring_size'].iloc[0])}")
    for ax in (ax1, ax2):
        ax.grid(True, which="both", alpha=0.3)
    ax2.legend(fontsize=8)
    return fig
