"""Figures. Each function takes a tidy frame and returns a matplotlib Figure."""

import base64
import io

import matplotlib.pyplot as plt


def png_base64(fig):
    """A figure as base64 PNG text; the figure is closed (pyplot keeps no reference to it)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


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


def _axes(ax, figsize=(5, 3.6)):
    """(figure, axes): draw into ``ax`` when given (a panel of a larger figure), else a new figure."""
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, constrained_layout=True)
    return fig, ax


def plot_memory(samples, ax=None):
    """Memory over model time from ``Result.samples_frame()``: pages out of the page allocator
    (mem_used) and the truesize the sockets are charged (rmem), in MiB."""
    fig, ax = _axes(ax)
    t = samples["t_us"]
    ax.plot(t, samples["mem_used"] / 2**20, label="pages out of the allocator (mem_used)")
    ax.plot(t, samples["rmem"] / 2**20, label="charged to sockets (sk_rmem_alloc)")
    ax.set(xlabel="model time (µs)", ylabel="MiB", title="RX memory over time")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    return fig


# the operations a cost model prices, in the order a packet meets them
PER_PACKET = ("alloc_fast", "alloc_slow", "recycle_cached", "recycle_ring", "recycle_ring_full",
              "recycle_released_refcnt", "atomic_rmw", "atomic_rmw_remote", "refcnt_store", "dma_map",
              "dma_sync_dev", "page_alloc_order0", "pp_frag_alloc", "page_frag_alloc", "skb_coalesce")


def plot_per_packet(counters, ax=None, names=PER_PACKET):
    """Per-packet operation counts from ``Result.counters_frame()`` as horizontal bars."""
    fig, ax = _axes(ax)
    c = counters.set_index("counter").loc[list(names)]
    ax.barh(c.index[::-1], c["per_packet"].to_numpy()[::-1], color="C2")
    ax.set(xlabel="per packet", title="Kernel operations per packet")
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(True, axis="x", alpha=0.3)
    return fig


def plot_truesize_ratio(hist, ax=None):
    """The len/truesize ratio of arriving data packets from ``Result.truesize_frame()``: the
    scaling_ratio TCP derives its advertised window from."""
    fig, ax = _axes(ax)
    width = hist["ratio_high"] - hist["ratio_low"]
    ax.bar(hist["ratio_low"], hist["packets"], width=width, align="edge", color="C1")
    ax.set(xlabel="skb->len / skb->truesize", ylabel="packets", xlim=(0, 1), title="len / truesize")
    ax.grid(True, alpha=0.3)
    return fig
