"""Figures. Each function takes a tidy frame and returns a matplotlib Figure."""

import base64
import io

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from rxlab.studies.claims import load_claims


def claims_of(quantity):
    """The seed claims (``data/claims.csv``) of one quantity: a frame with id, value, value_high, unit
    and conditions (a dict), for figures that mark them."""
    c = load_claims()
    return c[c["quantity"] == quantity].reset_index(drop=True)


def log2_axis(ax, which="y"):
    """A log axis in powers of two with their values written out (1, 2, 4, ... 32, not 10^0, 10^1)."""
    axis = ax.yaxis if which == "y" else ax.xaxis
    (ax.set_yscale if which == "y" else ax.set_xscale)("log", base=2)
    axis.set_major_locator(LogLocator(base=2))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def mark_claim(ax, x, y, claim_id, text, color="k"):
    """A seed claim's value drawn as an open star labelled with its claim id (``gid`` claim:<id>)."""
    ax.plot([x], [y], "*", ms=13, mfc="none", mec=color, mew=1.5, ls="none", gid=f"claim:{claim_id}",
            label=f"claim {claim_id}: {text}")
    ax.annotate(claim_id, (x, y), xytext=(6, 4), textcoords="offset points", fontsize=8, color=color)


def png_base64(fig, dpi=100, palette=False):
    """A figure as base64 PNG text; the figure is closed (pyplot keeps no reference to it).
    ``palette``: 256 colours (Pillow's adaptive palette), about a third of the bytes, for pages
    that carry many figures."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    if palette:
        from PIL import Image

        img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB").quantize(colors=256)
        buf = io.BytesIO()
        img.save(buf, format="PNG", optimize=True)
    return base64.b64encode(buf.getvalue()).decode()


def plot_geometry(frame):
    """Buffers per page and RX memory per queue against MTU, pre vs post patch, per page size, as the
    step functions they are (give a fine MTU grid: ``geometry_frame(mtus=range(576, 9001))``), with seed
    000's buffers-per-page claims marked where their conditions put them."""
    ok = frame[(frame["error"] == "") & (~frame["xdp"])]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.4), constrained_layout=True)
    colors = {p: f"C{i}" for i, p in enumerate(sorted(ok["page_size"].unique()))}
    for (variant, page_size), g in ok.groupby(["variant", "page_size"], observed=True):
        g = g.sort_values("mtu")
        kw = {"color": colors[page_size], "label": f"{variant}, {page_size // 1024} KB pages", "where": "post",
              "ls": "-" if variant == "post" else "--"}
        ax1.step(g["mtu"], g["frags_per_page"], **kw)
        ax2.step(g["mtu"], g["ring_bytes"] / 2**20, **kw)
    for c in claims_of("buffers_per_page").itertuples():
        cond = c.conditions
        if "mtu" in cond and int(cond.get("xdp", 0)) == 0:
            mark_claim(ax1, int(cond["mtu"]), c.value, c.id,
                       f"{c.value:g} per {int(cond['page_size']) // 1024} KB page ({cond.get('variant', '')})")
    log2_axis(ax1)
    # both spans are orders of magnitude: log axes, and the labels say so
    ax1.set(xlabel="MTU", ylabel="RX buffers per page (log scale)", title="Buffers per page (no XDP)")
    ax2.set(xlabel="MTU", ylabel="MiB pinned per RX queue (log scale)", yscale="log",
            title=f"RX memory per queue, ring of {int(ok['ring_size'].iloc[0])}")
    ax2.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    for ax in (ax1, ax2):
        ax.grid(True, which="both", alpha=0.3)
    # beside the axes, not over the steps and the claim labels
    ax1.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax2.legend(fontsize=8, loc="lower right")
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


def plot_queue_occupancy(occupancy, ax=None):
    """Connections per RX queue from ``Result.queue_occupancy()`` (or any frame with ``queue`` and
    ``connections``): RSS hashes flows onto queues and they collide, some queues carrying several
    connections while others sit idle."""
    fig, ax = _axes(ax)
    q, n = occupancy["queue"].to_numpy(), occupancy["connections"].to_numpy()
    ax.bar(q, n, color="C4")
    idle, total = int((n == 0).sum()), int(n.sum())
    ax.set(xlabel="RX queue", ylabel="connections",
           title=f"RSS: {total} connections on {len(q)} queues, {idle} idle, at most {int(n.max(initial=0))} on one")
    ax.title.set_fontsize(8)
    ax.grid(True, axis="y", alpha=0.3)
    return fig


def plot_fallback(frame):
    """Buffers per page against MTU on a fine grid (one ``geometry_frame`` variant, no XDP): the
    driver's frag_count and what page_pool carves, falling to one buffer per page where
    mana_get_rxbuf_cfg() gives up on fragments (mtu + MANA_RXBUF_PAD > PAGE_SIZE / 2)."""
    ok = frame[(frame["error"] == "") & (~frame["xdp"])]
    fig, ax = plt.subplots(figsize=(11, 5), constrained_layout=True)
    for i, (page_size, g) in enumerate(ok.groupby("page_size")):
        g = g.sort_values("mtu")
        kb = page_size // 1024
        ax.step(g["mtu"], g["frag_count"], where="post", color=f"C{i}", ls="--", lw=1,
                label=f"{kb} KB: driver frag_count")
        ax.step(g["mtu"], g["frags_per_page"], where="post", color=f"C{i}", label=f"{kb} KB: page_pool carves")
        last = g.loc[g["frag_count"] > 1, "mtu"]
        if len(last) and last.max() < g["mtu"].max():
            ax.axvline(last.max(), color=f"C{i}", ls=":", lw=1)
            ax.annotate(f"last MTU with fragments: {last.max()}", (last.max(), 1.2), rotation=90,
                        fontsize=8, color=f"C{i}", ha="right", va="bottom")
    pages = sorted(ok["page_size"].unique())
    for c in claims_of("frag_path_max_mtu").itertuples():  # the cover letter's threshold, as claimed
        if int(c.conditions.get("page_size", 0)) in pages:
            i = pages.index(int(c.conditions["page_size"]))
            ax.axvline(c.value, color=f"C{i}", ls="-.", lw=1.2, gid=f"claim:{c.id}",
                       label=f"claim {c.id}: fragments up to MTU {c.value:g} ({int(c.conditions['page_size']) // 1024} KB)")
            ax.annotate(c.id, (c.value, 2), rotation=90, fontsize=8, ha="left", va="bottom", color=f"C{i}")
    for c in claims_of("buffers_per_page").itertuples():
        cond = c.conditions
        if "mtu" in cond and int(cond["page_size"]) in pages and int(cond.get("xdp", 0)) == 0 \
                and cond.get("variant") == "post":
            mark_claim(ax, int(cond["mtu"]), c.value, c.id, f"{c.value:g} per {int(cond['page_size']) // 1024} KB page")
    log2_axis(ax)
    ax.set(xlabel="MTU", ylabel="RX buffers per page", title="Fragment path and its full-page fallback (no XDP)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=2, loc="upper right")
    return fig


def _label(row):
    return f"{row.strategy}, {row.page_size // 1024} KB"


def plot_truesize_tcp(frame):
    """Runs over page size x strategy x truesize_honest x tcp_rmem (one row each, with
    ``goodput_gbps``, ``scaling_ratio``, ``rmem_peak_bytes``): goodput against receive buffer with
    the reported truesize, the len/truesize ratio TCP sees, and receive memory charged vs pinned."""
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(14, 4.8), constrained_layout=True)
    keys = frame[["strategy", "page_size"]].drop_duplicates().sort_values(["page_size", "strategy"])
    for i, k in enumerate(keys.itertuples()):
        g = frame[(frame["strategy"] == k.strategy) & (frame["page_size"] == k.page_size)]
        for honest, ls in ((False, "-"), (True, ":")):
            h = g[g["truesize_honest"] == honest].sort_values("tcp_rmem")
            ax1.plot(h["tcp_rmem"] / 1024, h["goodput_gbps"], ls=ls, marker="o", ms=3, color=f"C{i}",
                     label=f"{_label(k)}{', honest' if honest else ''}")
        top = g[g["tcp_rmem"] == g["tcp_rmem"].max()]
        for honest, off in ((False, -0.2), (True, 0.2)):
            t = top[top["truesize_honest"] == honest]
            ax2.bar(i + off, t["scaling_ratio"].mean(), width=0.4, color=f"C{i}", alpha=1.0 if not honest else 0.5)
            ax3.bar(i + off, t["rmem_peak_bytes"].mean() / 2**20, width=0.4, color=f"C{i}",
                    alpha=1.0 if not honest else 0.5)
    names = [_label(k) for k in keys.itertuples()]
    for ax in (ax2, ax3):
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=7)
        ax.grid(True, axis="y", alpha=0.3)
    log2_axis(ax1, "x")
    ax1.set(xlabel="tcp_rmem (sk_rcvbuf), KiB", ylabel="goodput, Gbps (model clock)",
            title="Goodput vs receive buffer")
    ax1.grid(True, which="both", alpha=0.3)
    # one entry per colour (strategy, page size) and one per line style: 8 entries, not 12 lines'
    handles = [plt.Line2D([], [], color=f"C{i}", marker="o", ms=3, label=n) for i, n in enumerate(names)]
    handles += [plt.Line2D([], [], color="grey", ls=ls, label=f"truesize {t}")
                for ls, t in (("-", "as reported"), (":", "honest"))]
    ax1.legend(handles=handles, fontsize=8, loc="lower right")
    ax2.set(ylabel="mean len / truesize", title="scaling_ratio\n(dark: truesize as reported, light: honest)")
    ax3.set(ylabel="MiB", title="Peak receive memory charged\n(dark: truesize as reported, light: honest)")
    return fig


RETURNS = ("recycle_cached", "recycle_ring", "recycle_ring_full", "recycle_released_refcnt")


def plot_lifecycles(frame):
    """Scenarios (one ``Result.to_frame()`` row each, with a ``scenario`` column): how pages come
    back (page_pool recycle stats per packet), refcount atomics per packet (local and remote),
    and peak RX memory."""
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(14, 5.5), constrained_layout=True)
    y = range(len(frame))
    pk = frame["packets"].clip(lower=1).to_numpy()
    left = 0.0
    for i, name in enumerate(RETURNS):
        v = frame[name].to_numpy() / pk
        ax1.barh(y, v, left=left, color=f"C{i}", label=name)
        left = left + v
    remote = frame["atomic_rmw_remote"].to_numpy() / pk
    ax2.barh(y, frame["atomic_rmw"].to_numpy() / pk - remote, color="C0", label="same CPU")
    ax2.barh(y, remote, left=frame["atomic_rmw"].to_numpy() / pk - remote, color="C3",
             label="line last written by another CPU")
    ax3.barh(y, frame["mem_peak_bytes"] / 2**20, color="C2")
    # stacked bars make every segment's left end a sticky edge: the longest bar would end on the frame,
    # looking clipped. Each axis ends 8% past its longest bar instead.
    ends = (left, frame["atomic_rmw"].to_numpy() / pk, frame["mem_peak_bytes"].to_numpy() / 2**20)
    for ax, end in zip((ax1, ax2, ax3), ends):
        ax.set_yticks(list(y), frame["scenario"] if ax is ax1 else [""] * len(frame), fontsize=9)
        ax.invert_yaxis()
        ax.grid(True, axis="x", alpha=0.3)
        ax.set_xlim(0, 1.08 * max(float(max(end, default=0)), 1e-9))
    ax1.set(xlabel="page returns per packet", title="How pages return to page_pool")
    ax2.set(xlabel="atomic RMWs per packet", title="Refcount atomics")
    ax3.set(xlabel="MiB", title="Peak RX memory")
    for ax in (ax1, ax2):  # below the bars, not over them
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    return fig


def plot_seed001(comparison):
    """Seed 001's table beside the model (``rxlab.studies.seeds.seed001_comparison()``): Gbps against
    connections, measured on the affected SKU (points) and predicted by the CPU model alone on each
    platform (lines: the estimate; shaded: its band, every cost at its low and at its high end);
    and the shortfall of fragments behind full pages, measured and in the CPU model with its band.
    A profile's empirical device factor is left out: with it the model is the table by construction."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.4), constrained_layout=True)
    # profiles with the same CPU model (the affected SKU is typical_arm64 plus a device factor) draw once
    seen, drawn = {}, []
    for name, g in comparison.groupby("platform", sort=False):
        key = tuple(g["cpu_frag"].round(6)) + tuple(g["cpu_full_page"].round(6))
        if key in seen:
            seen[key].append(name)
            continue
        seen[key] = [name]
        drawn.append((key, g.sort_values("connections")))
    for i, (key, g) in enumerate(drawn):
        names = " = ".join(seen[key])
        x = g["connections"]
        for col, ls, label in (("cpu_frag", "-", "fragments"), ("cpu_full_page", "--", "full pages")):
            ax1.plot(x, g[col], ls=ls, color=f"C{i}", label=f"CPU model, {names}: {label}")
            ax1.fill_between(x, g[f"{col}_low"], g[f"{col}_high"], color=f"C{i}", alpha=0.12 if ls == "-" else 0.06,
                             lw=0)
        ax2.plot(x, g["shortfall_cpu"], color=f"C{i}", marker=".", label=f"CPU model, {names}")
        ax2.fill_between(x, g["shortfall_cpu_low"], g["shortfall_cpu_high"], color=f"C{i}", alpha=0.15, lw=0)
    for name, g in comparison.groupby("platform", sort=False):
        g = g.sort_values("connections")
        if g["measured_frag"].notna().any():
            ax1.plot(g["connections"], g["measured_frag"], "o", color="k", label=f"measured ({name}): fragments")
            ax1.plot(g["connections"], g["measured_full_page"], "s", mfc="none", color="k",
                     label=f"measured ({name}): full pages")
            ax2.plot(g["connections"], g["shortfall_measured"], "o-", color="k", label=f"measured ({name})")
    for ax in (ax1, ax2):
        ax.set_xscale("log", base=2)
        ax.set_xticks(sorted(comparison["connections"].unique()), sorted(comparison["connections"].unique()))
        ax.grid(True, alpha=0.3)
        ax.set_xlabel("TCP connections")
    ax1.set(ylabel="Gbps (model: ESTIMATE, shaded: band)", title="Seed 001: 4 KB pages, MTU 1500, 16 queues")
    ax2.set(ylabel="% fragments behind full pages", title="Shortfall of fragments (CPU model: no device factor)")
    ax2.axhline(0, color="grey", lw=0.8)
    ax1.legend(fontsize=6)
    ax2.legend(fontsize=7)
    return fig


def plot_attribution(att, label="label"):
    """Modelled cycles per packet by category (from ``rxlab.attribution_frame(result, profile)`` frames with a
    ``label`` column, one label per run) as stacked horizontal bars: a perf top of the model, one bar per
    run and CPU class (RX core, reading core) that spends cycles."""
    if "cpu_class" in att.columns:
        att = att[att["cpu_class"] != "none"]
        where = att["cpu_class"].map({"napi": "RX core", "reader": "reading core"})
        att = att.assign(**{label: att[label].astype(str) + " · " + where})
    cyc = att.pivot_table(index=label, columns="category", values="cycles_per_packet", aggfunc="sum", sort=False)
    cyc = cyc.loc[cyc.sum(axis=1) > 0]
    cyc = cyc.loc[:, cyc.sum() > 0.5]
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(cyc) + 1.6), constrained_layout=True)
    left = 0.0
    for i, cat in enumerate(cyc.columns):
        ax.barh(range(len(cyc)), cyc[cat], left=left, color=f"C{i}", label=cat)
        left = left + cyc[cat].to_numpy()
    ax.set_yticks(range(len(cyc)), cyc.index, fontsize=8)
    ax.invert_yaxis()
    ax.set(xlabel="modelled cycles per packet on the CPU that pays them (ESTIMATE)", title="Where the cycles go")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def plot_mechanisms(steps, case="case"):
    """Waterfalls of ``rxlab.cost.pricing.mechanism_steps`` frames (one panel per ``case``): the throughput
    estimate after each mechanism is swapped, the bar coloured by the bound that binds."""
    cases = list(dict.fromkeys(steps[case]))
    fig, axes = plt.subplots(1, len(cases), figsize=(6 * len(cases), 4), constrained_layout=True, squeeze=False)
    colors = {"line": "C0", "cpu": "C3", "reader_cpu": "C4", "window": "C1", "device": "C7"}
    for ax, name in zip(axes[0], cases):
        g = steps[steps[case] == name]
        prev = g["gbps"].shift(1).fillna(0.0).to_numpy()
        first = g["step"].to_numpy() == 0
        bottom = [0.0 if f else min(p, v) for f, p, v in zip(first, prev, g["gbps"])]
        height = [v if f else abs(v - p) for f, p, v in zip(first, prev, g["gbps"])]
        ax.bar(range(len(g)), height, bottom=bottom, color=[colors[b] for b in g["binds"]])
        for x, (v, d) in enumerate(zip(g["gbps"], g["delta_gbps"])):
            ax.annotate(f"{v:.1f}" if x == 0 else f"{d:+.1f}", (x, v), ha="center", va="bottom", fontsize=7)
        ax.set_xticks(range(len(g)), g["mechanism"], rotation=30, ha="right", fontsize=8)
        ax.set(ylabel="Gbps (ESTIMATE)", title=name)
        ax.grid(True, axis="y", alpha=0.3)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colors.values()]
    axes[0][0].legend(handles, [f"{b} binds" for b in colors], fontsize=7)
    return fig


def plot_gain_sweep(frame):
    """Runs over connections x tcp_rmem x strategy (one row each, with the estimate's ``gbps`` and
    ``binds``, and its band ``gbps_low`` / ``gbps_high`` when present): Gbps of each strategy (shaded:
    the band), and the gain of fragments over full pages against connections (shaded: the gain
    with both priced at every cost's low end, and at its high end)."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.2), constrained_layout=True)
    band = {"gbps_low", "gbps_high"} <= set(frame.columns)
    for i, (rmem, g) in enumerate(frame.groupby("tcp_rmem")):
        w = {c: g.pivot(index="connections", columns="strategy", values=c)
             for c in (("gbps", "gbps_low", "gbps_high") if band else ("gbps",))}
        for s, ls in (("pp_frag", "-"), ("full_page", "--")):
            ax1.plot(w["gbps"].index, w["gbps"][s], ls=ls, marker=".", color=f"C{i}",
                     label=f"{s}, tcp_rmem {rmem // 1024} KiB")
            if band:
                ax1.fill_between(w["gbps"].index, w["gbps_low"][s], w["gbps_high"][s], color=f"C{i}", alpha=0.1, lw=0)
        gains = {c: (v["pp_frag"] / v["full_page"] - 1) * 100 for c, v in w.items()}
        ax2.plot(w["gbps"].index, gains["gbps"], marker="o", color=f"C{i}", label=f"tcp_rmem {rmem // 1024} KiB")
        if band:
            lo = pd.concat(gains.values(), axis=1).min(axis=1)
            hi = pd.concat(gains.values(), axis=1).max(axis=1)
            ax2.fill_between(w["gbps"].index, lo, hi, color=f"C{i}", alpha=0.15, lw=0)
    conns = sorted(frame["connections"].unique())
    for ax in (ax1, ax2):
        ax.set_xscale("log", base=2)
        ax.set_xticks(conns, conns)
        ax.grid(True, which="both", alpha=0.3)
        ax.set_xlabel("TCP connections")
    ax2.set_ylim(bottom=0, top=max(ax2.get_ylim()[1] * 2, 400))
    ax1.set(ylabel="Gbps (ESTIMATE" + (", shaded: band)" if band else ")"),
            title="64 KB pages: fragments (solid) vs full pages (dashed)")
    ax2.set(ylabel="% gain of fragments over full pages", title="The gain, where it matters")
    ax2.set_yscale("symlog", linthresh=10)
    for c in claims_of("throughput_gain").itertuples():
        if c.conditions.get("compare") == "pp_frag/full_page" and int(c.conditions.get("page_size", 0)) == 65536:
            ax2.axhline(c.value, color="k", ls=":", lw=1, gid=f"claim:{c.id}", label=f"claim {c.id}: ~{c.value:g}%")
            ax2.annotate(f"{c.id}: ~{c.value:g}%", (frame["connections"].min(), c.value), fontsize=8, va="bottom")
    ax1.legend(fontsize=6)
    ax2.legend(fontsize=7)
    return fig
