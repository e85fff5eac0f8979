"""One evaluator per row of ``data/claims.csv``, and the scoreboard that runs them.

Geometry claims use the kernel arithmetic (rxlab.kernel); counting claims run small
simulations; throughput claims price simulations with the cost model (an ESTIMATE, see
rxlab.cost) under the profiles of ``data/platforms.toml``. Each evaluator states the
scenario it simulates; none is tuned to pass: a claim the model does not reproduce is
reported as such, with the reason. The verdict rules are in :mod:`.verdicts`; the runs and
seed tables in :mod:`rxlab.studies.seeds`.
"""

import math

import numpy as np
import pandas as pd

from rxlab.cost.pricing import ESTIMATE_NOTE, throughput
from rxlab.cost.whatif import gain_band, throughput_gain
from rxlab.data import load_claims
from rxlab.kernel.mana import mana_rx_geometry, mtu_range
from rxlab.studies.claims.verdicts import (
    CONTRADICTED,
    HARDWARE,
    INDETERMINATE,
    INPUT,
    UNTESTABLE,
    Finding,
    absent,
    agreeing_reason,
    band_text,
    claimed_text,
    spread_text,
    undecided,
    verdict,
)
from rxlab.studies.seeds import (
    CPU_CLASSES,
    QUICK_PACKETS,
    READERS,
    SEED000,
    SEED000_KERNELS,
    SEED001,
    SPREAD,
    SPREAD_TEXT,
    TRAP_SEEDS,
    Runs,
    cpu_use,
    gain_across_releases,
    measured_shortfall,
    shortfall,
)

ONSET_SHORTFALL = 5.0  # percent: the smallest shortfall counted as a regression's onset
PROFILED_FLOWS = 48  # the thread's profiled run (Roy, 2026-04-04): CPUs about 10% idle in both modes


def _spread(f, by):
    """``f`` with its spread over the variants of ``by`` ({(RSS seed, queues): value or (value, low,
    high)}, rxlab.studies.seeds.SPREAD) and its band widened to every variant's band: the band then
    holds what the seeds leave unstated as well as the parameters' ends."""
    ends = {k: v if isinstance(v, tuple) else (v, v, v) for k, v in by.items()}
    mids = np.array([v[0] for v in ends.values()], float)
    every = [float(x) for v in [*ends.values(), (f.model, f.low, f.high)] for x in v if not absent(x)]
    if every:
        f.low, f.high = min(every), max(every)
    some = not np.isnan(mids).all()  # an onset may be none in every variant
    f.spread = {"over": SPREAD_TEXT, "low": float(np.nanmin(mids)) if some else math.nan,
                "high": float(np.nanmax(mids)) if some else math.nan,
                "values": {f"seed {s}, {q} queues": None if absent(v[0]) else round(float(v[0]), 2)
                           for (s, q), v in ends.items()}}
    return f


def _fmt_rows(w, conns):
    return ", ".join(f"{c}: {w.loc[c, 'pp_frag']:.0f}/{w.loc[c, 'full_page']:.0f} ({w.loc[c, 'binds']})"
                     for c in conns)


def _fmt_band(w, conns):
    return ", ".join(f"{c}: {w.loc[c, 'shortfall']:+.1f}% [{w.loc[c, 'shortfall_low']:+.1f}..{w.loc[c, 'shortfall_high']:+.1f}]"
                     for c in conns)


def _select(claim, w):
    lo, _, hi = claim["conditions"].get("connections", "32..128").partition("..")
    return w.loc[int(lo):int(hi)] if hi else w.loc[[int(lo)]]


def _cause(ctx, platform):
    """``platform`` when its profile cites a root cause outside the model (its device's), else ""."""
    dev = ctx.profiles[platform].device
    return platform if dev is not None and dev.root_cause else ""


def _binds_text(w, conns):
    """What binds over ``conns`` (rows of :func:`shortfall`) in words."""
    binds = set(w.loc[conns, "binds"])
    if binds == {"line/line"}:
        return "the line binds both layouts"
    return "fragments/full pages bound by " + ", ".join(sorted(binds))


def _regression(ctx, claim, platform):
    """The shortfall of fragments behind full pages over the claim's connection counts, as the CPU
    model alone predicts it (the device factor, if the profile has one, off: it is the table
    itself), with its band; on a profile with a device factor also the seed's own measured
    shortfall and the root cause."""
    w = shortfall(ctx.table(platform, device_factor=False))
    sel = _select(claim, w)
    model, low, high = (float(sel[c].mean()) for c in ("shortfall", "shortfall_low", "shortfall_high"))
    conns = f"{sel.index.min()}-{sel.index.max()}"
    details = (f"{platform}, CPU model{' (device factor off)' if ctx.profiles[platform].device else ''}: "
               f"frag/full Gbps (binds) by connections: {_fmt_rows(w, sel.index)}; mean shortfall {model:.1f}% "
               f"[{low:.1f}..{high:.1f}].")
    detail = {"cpu_model_shortfall_pct": {str(c): [round(w.loc[c, k], 2) for k in
                                                   ("shortfall", "shortfall_low", "shortfall_high")] for c in w.index}}
    cause = _cause(ctx, platform)
    spread = ctx.spread(platform, _shortfall_figure(claim))
    if not cause:
        why = (f"What binds decides: on {platform} the CPU model gives fragments a {model:.1f}% shortfall behind full "
               f"pages at {conns} connections, where {_binds_text(w, sel.index)}.")
        return _spread(Finding(model, why, details, low, high, detail=detail), spread)
    t = ctx.table(platform, device_factor=True)
    dev, meas = shortfall(t), measured_shortfall(t)
    measured = float(_select(claim, meas.to_frame("s"))["s"].mean())
    why = (f"A device fault outside the model decides: the CPU model alone gives a {model:.1f}% shortfall at {conns} "
           f"connections ({_binds_text(w, sel.index)}), the seed's table {measured:.1f}%.")
    details += (f" The CPU model's own shortfall by connection count: {_fmt_band(w, w.index)}. The seed's table: "
                + ", ".join(f"{c}: {v:.1f}%" for c, v in meas.items())
                + f" (mean over the claim's rows {measured:.1f}%); with the empirical device factor (read off that "
                f"table, not a CPU cost) the model gives {dev.loc[sel.index, 'shortfall'].mean():.1f}% by construction.")
    # the thread's profiled 48-flow run: CPUs about 10% idle in both modes; the model's RX cores there
    idle = {s: 1 - float(u) for s, u in t[t["connections"] == PROFILED_FLOWS].set_index("strategy")["util_napi"].items()}
    details += (f" CPU use held against the thread: at {PROFILED_FLOWS} flows, with the device factor on, the "
                f"model's RX cores are {idle['pp_frag']:.0%} idle with fragments and {idle['full_page']:.0%} with full "
                f"pages, the thread's CPUs about 10% in both: the model misses per-packet work there, and its "
                f"largest cost, stack_per_packet, is one assumed figure with no published decomposition used.")
    detail.update(measured_shortfall_pct={str(c): round(v, 2) for c, v in meas.items()},
                  device_factor_shortfall_pct={str(c): round(v, 2) for c, v in dev["shortfall"].items()},
                  napi_idle_at_profiled_flows={k: round(v, 3) for k, v in idle.items()})
    return _spread(Finding(model, why, details, low, high, measured=measured, cause=cause, detail=detail), spread)


def _shortfall_figure(claim):
    """The mean shortfall over the claim's connection counts with its band, of one priced table."""
    def figure(t):
        sel = _select(claim, shortfall(t))
        return tuple(float(sel[c].mean()) for c in ("shortfall", "shortfall_low", "shortfall_high"))
    return figure


def _fmt_use(u, conns):
    return "; ".join(f"{c}: " + ", ".join(
        f"{CPU_CLASSES[k]} {u.loc[c, f'util_{k}_pp_frag']:.0%}/{u.loc[c, f'util_{k}_full_page']:.0%} "
        f"({u.loc[c, f'more_{k}']:+.1f}% [{u.loc[c, f'more_{k}_low']:+.1f}..{u.loc[c, f'more_{k}_high']:+.1f}])"
        for k in CPU_CLASSES) for c in conns)


def _no_regression(ctx, claim, platform):
    """"Not seen on other SKUs": fragments no further behind full pages than the claim allows, tested
    where it can fail. At a connection count where the line binds both layouts at the estimate their
    Gbps are equal by construction, so what is compared there is their CPU use: the utilisation of
    the busiest CPU class (the one that binds first as the load grows, :func:`rxlab.studies.seeds.cpu_use`),
    how much more of it fragments use than full pages, with its band (both layouts priced at the same
    parameter ends). Elsewhere the Gbps shortfall is compared. The device factor is off (the CPU model)."""
    t = ctx.table(platform, device_factor=False)
    w, u = shortfall(t), cpu_use(t)
    sel = _select(claim, w).index
    line = w.loc[sel, "binds"] == "line/line"
    model, low, high = _no_regression_figure(claim)(t)
    conns = f"{sel.min()}-{sel.max()}"
    busiest = sorted({CPU_CLASSES[k] for k in u.loc[sel[line], "busiest"]})
    if line.all():
        what = f"utilisation of the busiest CPU class ({', '.join(busiest)})"
        why = (f"What binds decides what is compared: on {platform} the line binds both layouts at {conns} "
               f"connections, so their CPU use is compared: fragments change the {', '.join(busiest)}' "
               f"utilisation by {model:+.1f}% against full pages.")
    else:
        what = ("Gbps" if not line.any() else
                "Gbps where the CPU or the window binds, utilisation of the busiest CPU class where the line does")
        why = (f"What binds decides: on {platform} at {conns} connections ({_binds_text(w, sel)}) the CPU model "
               f"puts fragments {model:+.1f}% behind full pages (compared: {what}).")
    details = (f"{platform}, CPU model: frag/full Gbps (binds) by connections: {_fmt_rows(w, sel)}. Compared: {what}"
               f", mean {model:+.1f}% [{low:+.1f}..{high:+.1f}] (positive: fragments worse). Utilisation frag/full "
               f"and how much more capacity fragments need to carry the line, by class: {_fmt_use(u, sel)}.")
    detail = {"compared": what,
              "cpu_model_shortfall_pct": {str(c): [round(w.loc[c, k], 2) for k in
                                                   ("shortfall", "shortfall_low", "shortfall_high")] for c in w.index},
              "util_more_pct": {str(c): {k: [round(u.loc[c, f"more_{k}{e}"], 2) for e in ("", "_low", "_high")]
                                         for k in CPU_CLASSES} for c in u.index}}
    return _spread(Finding(model, why, details, low, high, detail=detail),
                   ctx.spread(platform, _no_regression_figure(claim)))


def _no_regression_figure(claim):
    """What :func:`_no_regression` compares, of one priced table: the mean over the claim's connection
    counts of the busiest class's extra utilisation where the line binds both layouts, of the Gbps
    shortfall elsewhere, with its band."""
    def figure(t):
        w, u = shortfall(t), cpu_use(t)
        sel = _select(claim, w).index
        line = w.loc[sel, "binds"] == "line/line"
        return tuple(float(np.mean(np.where(line, u.loc[sel, "more" + k], w.loc[sel, "shortfall" + k])))
                     for k in ("", "_low", "_high"))
    return figure


def ev_no_regression(platform):
    """"Not seen on ``platform``": :func:`_no_regression`."""
    return lambda ctx, claim: _no_regression(ctx, claim, platform)


def _geometry(claim):
    c = claim["conditions"]
    return mana_rx_geometry(int(c["page_size"]), int(c.get("mtu", 1500)), c.get("xdp") == "1",
                            c.get("variant", "post"), c.get("arch", "arm64"))


def ev_buffers_per_page(ctx, claim):
    g = _geometry(claim)
    why = (f"The kernel arithmetic decides: mana_get_rxbuf_cfg() gives {g.frag_count} "
           f"buffer{'s' if g.frag_count > 1 else ''} per page "
           + (f"(PAGE_SIZE {g.page_size} // buf_size {g.alloc_size})." if g.frag_count > 1 else
              f"(alloc_size {g.alloc_size}, headroom {g.headroom}: one buffer per page)."))
    details = (f"page_pool really carves {g.frags_per_page} ({g.arch} rounds each slice up to ARCH_DMA_MINALIGN)."
               if g.frags_per_page != g.frag_count else "")
    return Finding(g.frag_count, why, details)


def ev_frag_path_max_mtu(ctx, claim):
    c = claim["conditions"]
    page = int(c["page_size"])
    lo, hi = mtu_range(page, False, c.get("arch", "arm64"))
    frag = [m for m in range(lo, hi + 1) if mana_rx_geometry(page, m, False, "post").frag_count > 1]
    top = max(frag) if frag else math.nan
    return Finding(top, f"The kernel arithmetic decides: fragments stop above MTU {top}, because "
                        "mana_get_rxbuf_cfg() tests mtu + MANA_RXBUF_PAD (334) > PAGE_SIZE/2, not MTU > PAGE_SIZE/2.")


def _len_truesize(r):
    """Mean len/truesize of a run's arriving data packets (the window's scaling ratio)."""
    return float(r.truesize_frame().eval("(ratio_low + ratio_high) / 2 * packets").sum() / max(r.ratio_hist.sum(), 1))


def _cpu_gain(full, frag, prof):
    return float(throughput_gain(full, frag, prof, "gbps_cpu")[0])


def _cell(r, v):
    """One kernel and reader of seed 000's table: its gain with band and verdict, its trapped share."""
    n = round(r.trapped_share * len(TRAP_SEEDS))
    trap = f"trapped in {n} of {len(TRAP_SEEDS)} seeds" if n else ""
    if r.trapped:
        return f"{r.reader} reader {trap} (no figure: progress paced by its retransmission timers)"
    return (f"{r.reader} reader {r.gain_pct:+.0f}% [{r.gain_low:+.0f}..{r.gain_high:+.0f}] ({v}; full pages "
            f"{r.binds_full}-bound at {r.gbps_full:.1f} Gbps, fragments {r.binds_frag}-bound at {r.gbps_frag:.1f})"
            + (f", {trap} (the figure is the others')" if trap else ""))


def ev_throughput_gain(ctx, claim):
    """Seed 000's ~200% on 64 KB pages, over the kernels its tester could have run
    (:data:`rxlab.studies.seeds.SEED000_KERNELS`) and how soon its reader ran once woken
    (:data:`rxlab.studies.seeds.READERS`), each over :data:`rxlab.studies.seeds.TRAP_SEEDS`: a gain
    from a trapped flow (Result.trapped()) is no figure, and where the answers fall on both sides of
    the claim, or some flows are trapped, the verdict is ``indeterminate``, naming what decides it."""
    prof = ctx.profiles["typical_arm64"]
    c = claim
    kernels = [k for k, _ in SEED000_KERNELS]
    t = gain_across_releases(kernels=kernels, readers=READERS, seeds=TRAP_SEEDS, packets=ctx.packets,
                             cache=ctx.cache)
    free = t[~t["trapped"]]
    verdicts = {(r.kernel, r.reader): verdict(c["comparison"], c["value"], r.gain_pct, c["value_high"], c["unit"],
                                              band=(r.gain_low, r.gain_high))[0] for r in free.itertuples()}
    lines = [f"Linux {k} ({why_k}): " + "; ".join(_cell(r, verdicts.get((k, r.reader)))
                                                  for r in t[t["kernel"] == k].itertuples()) + "."
             for k, why_k in SEED000_KERNELS]
    some = t[t["trapped_share"] > 0]
    flags = ((f"trapped flows on {', '.join(f'{r.kernel} ({r.reader} reader)' for r in some.itertuples())}: "
              "no percentage from them"),) if len(some) else ()
    if not len(free):
        return Finding(math.nan, "The release decides: every candidate kernel traps the full pages' flow.",
                       " ".join(lines), kind=INDETERMINATE, flags=flags)
    ok = {k: v in ("reproduced", "within uncertainty") for k, v in verdicts.items()}
    by_kernel = {k for k, _ in ok} if len(set(ok.values())) > 1 else set()
    # the release decides when the kernels' answers differ; the reader when one kernel's do, or when a
    # slow reader lets the first round trips trap the flow (then loss recovery sets the gain: no figure)
    release = len({ok[k, r] for k, r in ok if r == READERS[0][0]}) > 1
    reader = len(some) > 0 or any(len({v for (k2, _), v in ok.items() if k2 == k}) > 1 for k in by_kernel)
    kind = INDETERMINATE if release or reader else ""
    gains = free["gain_pct"].to_numpy()
    lo, hi = float(free["gain_low"].min()), float(free["gain_high"].max())
    decides = " and ".join(w for w, on in (("the release the tester ran", release),
                                           ("how soon its reader ran once woken", reader)) if on)
    why = (f"{decides[0].upper()}{decides[1:]} decide{'s' if ' and ' not in decides else ''}: the gain is "
           f"{gains.min():+.0f}% to {gains.max():+.0f}% where no flow is trapped"
           + (f", and a slow reader traps the full pages' flow on {', '.join(dict.fromkeys(some['kernel']))} "
              "in some seeds, its gain set by loss recovery (no figure)." if len(some) else ".") if kind else
           "What binds each layout decides, alike on every candidate kernel and reader: "
           + ", ".join(sorted(set(verdicts.values()))) + ".")
    # one figure only where every kernel and reader agree; an indeterminate row shows their range
    model = math.nan if kind else float(np.median(gains))
    # the spread over the unstated RSS seed and queue count, on the first candidate at an idle reader
    k0 = kernels[0]
    variants = ctx.runs(*({"strategy": s, **SEED000, "kernel": k0, "seed": sd, "queues": q} for sd, q in SPREAD
                          for s in ("full_page", "pp_frag")))
    trap = (variants["trapped_connections"].to_numpy() > 0).reshape(-1, 2).any(axis=1)
    nan3 = (math.nan,) * 3  # a trapped variant gives no figure (Result.trapped())
    spread = {v: nan3 if tr else g for v, tr, g in
              zip(SPREAD, trap, zip(*gain_band(variants.iloc[0::2], variants.iloc[1::2], prof)))}
    cpu = _cpu_gain(variants.iloc[[0]], variants.iloc[[1]], prof)
    details = (" ".join(lines) + f" ({prof.name}; readers woken after a median of "
               + ", ".join(f"{r[1]['wake_us']:g} µs ({r[0]})" for r in READERS)
               + f"; \"200%\" may mean x2, +100%, or x3, +200%.) CPU alone on {k0}: {cpu:+.0f}%; the spread is on "
               f"{k0}.")
    cells = {k: {r.reader: {"gain": None if r.trapped else round(r.gain_pct, 1),
                            "low": None if r.trapped else round(r.gain_low, 1),
                            "high": None if r.trapped else round(r.gain_high, 1),
                            "trapped_share": r.trapped_share} for r in t[t["kernel"] == k].itertuples()}
             for k in kernels}
    return _spread(Finding(model, why, details, lo, hi, kind=kind, flags=flags,
                           detail={"kernels": {k: {**cells[k], "why": w} for k, w in SEED000_KERNELS}}), spread)


def ev_line_rate(ctx, claim):
    prof = ctx.profiles["affected_arm64"]
    t = ctx.table("affected_arm64")
    top = float(t["gbps_line"].max())
    return Finding(top, f"A profile input decides: the line's {top:.1f} Gbps of payload comes from {prof.name}'s "
                        f"link_gbps {prof['link_gbps']:g}, taken from this seed, so the model restates the claim.",
                   kind=INPUT)


REMOTE = ("atomic_rmw_remote", "refcnt_read_remote", "refcnt_store_remote")


def _onset(s):
    hit = s.index[s >= ONSET_SHORTFALL]
    return float(hit.min()) if len(hit) else math.nan


def ev_onset(ctx, claim):
    """"Only beyond 16 connections", checked against the seed's own rows first (a claim about a
    measurement), then against the CPU model alone."""
    t = ctx.table("affected_arm64")
    meas = measured_shortfall(t)
    measured = _onset(meas)
    cpu = shortfall(ctx.table("affected_arm64", device_factor=False))
    onset = _onset(cpu["shortfall"])
    earliest = _onset(cpu["shortfall_high"])
    m = t.pivot(index="connections", columns="strategy", values="measured")
    # what the simulation itself says changes with the connection count: struct page lines
    # touched last by another CPU, per packet
    rows = ctx.seed001_rows("affected_arm64")
    remote = rows[list(REMOTE)].sum(axis=1) / rows["packets"]
    x = remote.groupby([rows["strategy"], rows["connections"]]).mean()
    lines = "; ".join(f"{s} " + ", ".join(f"{c}: {v:.2f}" for c, v in x[s].items()) for s in ("pp_frag", "full_page"))
    def fmt(v):
        return "none" if math.isnan(v) else str(int(v))

    why = (f"The seed's own table decides: it shows a {meas[int(measured)]:.1f}% shortfall at {fmt(measured)} connections "
           f"and {meas[16]:.1f}% at 16, not 'only beyond 16'; the CPU model alone puts the onset at {fmt(onset)}."
           if not math.isnan(measured) else
           f"The seed's own table decides: it shows no shortfall of {ONSET_SHORTFALL:g}% or more at any connection "
           f"count; the CPU model alone puts the onset at {fmt(onset)}.")
    details = ("The seed's own rows, frag/full Gbps (shortfall): "
              + ", ".join(f"{c}: {m.loc[c, 'pp_frag']:.0f}/{m.loc[c, 'full_page']:.0f} ({meas[c]:.1f}%)" for c in m.index)
              + f"; first connection count with a shortfall >= {ONSET_SHORTFALL:g}%: {fmt(measured)}. The CPU model alone "
              f"(device factor off): {fmt(onset)} (at the band's edge: {fmt(earliest)}); cross-CPU struct page line "
              f"accesses per packet by connections: {lines}.")
    f = Finding(onset, why, details, measured=measured, cause=_cause(ctx, "affected_arm64"),
                detail={"measured_shortfall_pct": {str(c): round(v, 2) for c, v in meas.items()},
                        "measured_onset": None if math.isnan(measured) else int(measured),
                        "cpu_model_onset": None if math.isnan(onset) else int(onset)})
    return _spread(f, ctx.spread("affected_arm64", lambda v: _onset(shortfall(v)["shortfall"])))


def ev_shortfall(platform):
    """Fragments' mean shortfall behind full pages on ``platform`` over the claim's connections."""
    return lambda ctx, claim: _regression(ctx, claim, platform)


def _bias_upfront(ctx):
    """The default configuration on 4 KB pages with BIAS and with up-front references: two rows."""
    rows = ctx.runs(*({"strategy": s, "page_size": 4096} for s in ("pp_frag", "pp_frag_upfront")))
    return rows.iloc[0], rows.iloc[1]


def ev_drain_atomics(ctx, claim):
    (a, drained), (b, _) = ((int(r["atomic_rmw"]), int(r["pp_frag_drain"])) for r in _bias_upfront(ctx))
    per = (a - b) / max(drained, 1)
    return Finding(per, f"Simulated page_pool refcounting decides: BIAS costs {per:.3g} atomic RMW per drained page "
                        "more than references taken up front.",
                   f"atomic_rmw {a} (BIAS) - {b} (up front) over {drained} drained pages.")


def ev_upfront_atomics(ctx, claim):
    a, b = (r["atomic_rmw_per_packet"] for r in _bias_upfront(ctx))
    return Finding(a - b, f"Simulated page_pool refcounting decides: up-front references save {a - b:.3f} atomic RMW "
                          "per packet.",
                   f"atomic_rmw per packet {a:.3f} with BIAS, {b:.3f} with PAGE_SIZE/size references up front.")


def ev_upfront_gain(ctx, claim):
    """Kicinski's up-front references on the affected SKU: what they would save (the drain's
    atomic on the NAPI CPU, in cycles per packet) and what that is worth in Gbps. pp_frag_upfront
    keeps the fragment layout, so with the device factor on it meets the same empirical ceiling:
    references change CPU work, not the DMA refill pattern the root cause lies in."""
    lo, _, hi = claim["conditions"]["connections"].partition("..")
    prof = ctx.profiles["affected_arm64"]
    conns = sorted({4, int(lo), int(hi)})
    rows = ctx.runs(*({"strategy": s, "connections": c, **SEED001} for c in conns
                      for s in ("pp_frag", "pp_frag_upfront")))
    bias, up = rows.iloc[0::2], rows.iloc[1::2]
    gain, g_lo, g_hi = gain_band(bias, up, prof)
    cpu_gain = gain_band(bias, up, prof, device_factor=False)
    tb, tu = throughput(bias, prof), throughput(up, prof)
    out = list(zip(conns, gain, g_lo, g_hi, cpu_gain[0], tb.itertuples(), tu.itertuples()))
    sel = [i for i, c in enumerate(conns) if int(lo) <= c <= int(hi)]
    details = "; ".join(
        f"{c} conns: {g:+.1f}% [{gl:+.1f}..{gh:+.1f}] ({b.binds}; CPU model alone {cg:+.1f}%), "
        f"{b.cycles_per_packet - u.cycles_per_packet:.0f} cycles/pkt saved "
        f"[{b.cycles_per_packet_low - u.cycles_per_packet_low:.0f}..{b.cycles_per_packet_high - u.cycles_per_packet_high:.0f}]"
        for c, g, gl, gh, cg, b, u in out) + (
        ". They save the drain's atomic on the NAPI CPU, and leave every cross-CPU release and the DMA refill "
        "pattern as they are.")
    cause = _cause(ctx, "affected_arm64")
    cpu = [float(np.mean(x[sel])) for x in cpu_gain]
    # an empirical device factor for both layouts at every count the claim names: the estimate cannot
    # tell them apart, so the claim is untestable here; the CPU model alone is what rxlab can say
    device = all(tb["binds"].iloc[i] == tu["binds"].iloc[i] == "device" for i in sel)
    if device:
        why = (f"The empirical device ceiling decides: on {prof.name} both layouts meet the same device factor at "
               f"{lo}-{hi} connections, so the model cannot tell them apart; the CPU model alone gives "
               f"{cpu[0]:+.1f}% there and {cpu_gain[0][0]:+.1f}% at {conns[0]}.")
        return Finding(cpu[0], why, details, cpu[1], cpu[2], cause=cause, kind=UNTESTABLE)
    why = (f"What binds decides: up-front references change the estimate by {np.mean(gain[sel]):+.1f}% at "
           f"{lo}-{hi} connections ({', '.join(sorted(set(tb['binds'].iloc[sel])))}).")
    return Finding(float(np.mean(gain[sel])), why, details, float(np.mean(g_lo[sel])), float(np.mean(g_hi[sel])),
                   cause=cause)


SMALL_RMEM = 262144  # a small tcp_rmem: 4 streams whose window binds, so what truesize does to it shows


def _truesize_runs(ctx):
    """Seed 001's v3 branch (``full_page_v3``: a page per buffer, truesize of the fragment-sized
    alloc_size) and 7.0's fix (``full_page_v3_fixed``, f73896b4197e), 4 streams on 4 KB pages, at the
    release's tcp_rmem and at :data:`SMALL_RMEM`: {(strategy, tcp_rmem or None): Result}. Results,
    not rows: the claims are about the len/truesize histogram and the receive-memory samples."""
    kw = {"page_size": 4096, "connections": 4}
    return {(s, rmem): ctx.result(strategy=s, **kw, **({} if rmem is None else {"tcp_rmem": rmem}))
            for s in ("full_page_v3", "full_page_v3_fixed") for rmem in (None, SMALL_RMEM)}


def _charged_per_byte(r):
    """sk_rmem_alloc charged per byte of payload queued, over every skb the sockets admitted: the
    truesize (or coalesce delta) each was charged, against the payload it brought (rmem_charged,
    rmem_charged_payload)."""
    return r.counter("rmem_charged") / max(r.counter("rmem_charged_payload"), 1)


def _rmem_text(rmem, r):
    b = r.config.tcp_rmem
    size = f"{b >> 20} MB" if b >= 1 << 20 else f"{b >> 10} KB"
    return f"tcp_rmem {size}{' (the release' + chr(39) + 's)' if rmem is None else ''}"


def ev_truesize_underreported(ctx, claim):
    g = _geometry(claim)
    frag = mana_rx_geometry(g.page_size, g.mtu, False, "post", g.arch)
    fixed = mana_rx_geometry(g.page_size, g.mtu, False, g.variant, g.arch, truesize_fix=True)
    return Finding(int(g.truesize < g.truesize_pinned),
                   f"The kernel arithmetic decides: seed 001's v3 forces a page per buffer but keeps alloc_size "
                   f"{g.alloc_size}, so napi_build_skb() charges truesize {g.truesize} B for {g.truesize_pinned} B "
                   f"really pinned ({g.truesize_pinned / g.truesize:.2f}x).",
                   f"7.0's f73896b4197e charges the backing page: truesize {fixed.truesize} B. The fragment branch "
                   f"charges {frag.truesize} B for {frag.truesize_pinned} B (the page's tail slack, "
                   f"{(1 - frag.truesize / frag.truesize_pinned) * 100:.1f}% under-counted, unchanged by the fix).",
                   detail={"truesize": g.truesize, "truesize_pinned": g.truesize_pinned,
                           "truesize_fixed": fixed.truesize, "fragment_truesize": frag.truesize,
                           "fragment_truesize_pinned": frag.truesize_pinned})


def ev_truesize_rmem(ctx, claim):
    runs = _truesize_runs(ctx)
    under = {rmem: (1 - _charged_per_byte(runs["full_page_v3", rmem]) / _charged_per_byte(runs["full_page_v3_fixed", rmem]))
             * 100 for rmem in (None, SMALL_RMEM)}
    v3, fixed = runs["full_page_v3", None], runs["full_page_v3_fixed", None]
    details = "; ".join(
        f"{_rmem_text(rmem, runs['full_page_v3', rmem])}: v3 charges {_charged_per_byte(runs['full_page_v3', rmem]):.2f} "
        f"B of sk_rmem_alloc per byte of payload queued, the fix {_charged_per_byte(runs['full_page_v3_fixed', rmem]):.2f} "
        f"({under[rmem]:.1f}% under-counted); pages out of the allocator at the end: "
        f"{runs['full_page_v3', rmem].mem_used_end / 2**20:.0f} MB (v3), "
        f"{runs['full_page_v3_fixed', rmem].mem_used_end / 2**20:.0f} MB (fix)"
        for rmem in (None, SMALL_RMEM)) + ". 4 streams, 4 KB pages, MTU 1500."
    return Finding(under[None], f"Simulated sk_rmem_alloc decides: seed 001's v3 charges the receive queues "
                                f"{under[None]:.1f}% less than 7.0's fix, which charges what is pinned "
                                f"({v3.geometry.truesize} B against {fixed.geometry.truesize} B per packet).",
                   details, detail={"undercount_pct": {_rmem_text(k, runs["full_page_v3", k]): round(v, 2)
                                              for k, v in under.items()},
                                    "charged_per_byte": {s: _charged_per_byte(runs[s, None])
                                                         for s in ("full_page_v3", "full_page_v3_fixed")}})


def ev_truesize_window(ctx, claim):
    runs = _truesize_runs(ctx)
    ratio = {k: _len_truesize(r) for k, r in runs.items()}
    less = {rmem: (1 - ratio["full_page_v3_fixed", rmem] / ratio["full_page_v3", rmem]) * 100
            for rmem in (None, SMALL_RMEM)}
    details = "; ".join(
        f"{_rmem_text(rmem, runs['full_page_v3', rmem])}: len/truesize {ratio['full_page_v3', rmem]:.3f} -> "
        f"{ratio['full_page_v3_fixed', rmem]:.3f}, goodput {runs['full_page_v3', rmem].goodput_gbps:.1f} -> "
        f"{runs['full_page_v3_fixed', rmem].goodput_gbps:.1f} Gbps"
        for rmem in (None, SMALL_RMEM)) + (
        ". The v3 window was inflated by the under-counted truesize; the fix costs goodput only where the "
        "window binds (4 streams, 4 KB pages, MTU 1500).")
    return Finding(less[None], f"The len/truesize ratio (tcp scaling_ratio) decides: 7.0's fix lowers it by "
                               f"{less[None]:.1f}% against seed 001's v3 "
                               f"({ratio['full_page_v3', None]:.3f} -> {ratio['full_page_v3_fixed', None]:.3f}), "
                               "and the advertised window with it.",
                   details, detail={"goodput_gbps": {f"{s} {_rmem_text(k, r)}": round(r.goodput_gbps, 2)
                                            for (s, k), r in runs.items()}})


def ev_page_frag_atomics(ctx, claim):
    r = ctx.runs({"strategy": "page_frag_cache", "page_size": 4096}).iloc[0]
    n, refill, reuse = (int(r[k]) for k in ("page_frag_alloc", "page_frag_refill", "page_frag_reuse"))
    # alloc side: page_ref_add per refill, and one bias drop per exhausted page (refill or reuse)
    per = (2 * refill + reuse) / max(n, 1)
    return Finding(per, f"Simulated page_frag_cache refcounting decides: {per:.3f} atomic RMW per allocation, "
                        "against one get_page() per fragment before.",
                   f"{refill} refills and {reuse} in-place reuses over {n} allocations.")


EVALUATORS = {
    "buffers_per_page_post": ev_buffers_per_page,
    "buffers_per_page_pre": ev_buffers_per_page,
    "throughput_gain_64k": ev_throughput_gain,
    "fallback_jumbo_threshold": ev_frag_path_max_mtu,
    "fallback_jumbo_9000": ev_buffers_per_page,
    "fallback_xdp": ev_buffers_per_page,
    "line_rate": ev_line_rate,
    "shortfall_beyond_16": ev_shortfall("affected_arm64"),
    "shortfall_onset": ev_onset,
    "no_regression_x86": ev_no_regression("x86_64_server"),
    "no_regression_arm64": ev_no_regression("typical_arm64"),
    "upfront_refs_save_drain": ev_drain_atomics,
    "upfront_atomics_per_packet": ev_upfront_atomics,
    "upfront_throughput_gain": ev_upfront_gain,
    "truesize_underreported": ev_truesize_underreported,
    "truesize_rmem_undercount": ev_truesize_rmem,
    "truesize_honest_window": ev_truesize_window,
    "page_frag_no_get_page": ev_page_frag_atomics,
}


def evaluate_claims(packets=QUICK_PACKETS, ids=None, cache=None):
    """The scoreboard as a tidy frame, one row per claim: id, seed, claim, comparison, claimed, model,
    model_low, model_high (the model's band; equal to model for exact counts), measured (the claimed
    quantity in the seed's own table, NaN where it has none), unit, verdict, margin, ``why`` (one
    sentence: the mechanism that decided it), reason (that sentence, then the details), cause (the
    platform whose root cause explains the measurement, or ""), flags (why the value is not to be
    trusted, "; "-joined, or ""), spread (for a headline row, its value over the RSS seeds and queue
    counts the seeds leave unstated, as text; "" for the others) with spread_low and spread_high (the
    band includes them), detail (structured figures behind the reason, a dict).

    ``attrs``: ``note`` (ESTIMATE), ``packets`` and ``causes`` ({cause: its cited text}, each root
    cause once, never copied into the rows).

    ``cache``: the result cache its runs come from and go to (default: the study cache,
    ``rxlab.studies.cache.study_cache_dir()``)."""
    ctx = Runs(packets, cache)
    claims = load_claims()
    if ids is not None:
        claims = claims[claims["id"].isin(ids)]
    rows, causes = [], {}
    for _, c in claims.iterrows():
        ev = EVALUATORS.get(c["id"])
        if ev is None:
            raise KeyError(f"claims.csv id={c['id']!r} has no evaluator in rxlab.studies.claims.EVALUATORS")
        f = ev(ctx, c)
        model = float(f.model)
        low, high = (model if absent(x) else float(x) for x in (f.low, f.high))
        claim = (c["comparison"], c["value"], model, c["value_high"], c["unit"])
        v, margin = verdict(*claim, band=(low, high))
        if not absent(f.measured):
            dv, _ = verdict(c["comparison"], c["value"], float(f.measured), c["value_high"], c["unit"])
            if dv == "not reproduced":
                v, margin = CONTRADICTED, f"the seed's own table gives {f.measured:.3g}"
        if v == "not reproduced" and f.cause:
            v = HARDWARE
        if f.kind:
            v, margin = f.kind, ""
        flags = list(f.flags)
        if not f.kind and undecided(c["comparison"], c["value"], low, high, c["value_high"], c["unit"]):
            flags.append(f"band too wide to decide: {band_text(model, low, high)} reaches both sides of the claim")
        if f.cause:
            causes[f.cause] = ctx.profiles[f.cause].device.root_cause
        why = agreeing_reason(f.why, model, c["unit"])
        rows.append({"id": c["id"], "seed": c["seed"], "claim": c["quote"], "comparison": c["comparison"],
                     "claimed": claimed_text(c["comparison"], c["value"], c["value_high"]),
                     "model": model, "model_low": low, "model_high": high, "measured": float(f.measured),
                     "unit": c["unit"], "verdict": v, "margin": margin, "why": why,
                     "reason": f"{why} {f.details}".strip(), "cause": f.cause, "flags": "; ".join(flags),
                     "spread": spread_text(f.spread), "spread_low": f.spread.get("low", math.nan),
                     "spread_high": f.spread.get("high", math.nan),
                     "detail": {**f.detail, **({"spread": f.spread} if f.spread else {})}})
    out = pd.DataFrame(rows)
    out.attrs.update(note=ESTIMATE_NOTE, packets=packets, causes=causes)
    return out
