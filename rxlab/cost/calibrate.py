"""Fit a platform profile's free parameters to a measured (configuration -> Gbps) table.

Least squares on the Gbps residuals, by Levenberg-Marquardt over the logarithm of each
free parameter (so they stay positive and differ in scale by orders of magnitude), with
finite-difference derivatives. The model is piecewise (throughput is a minimum of three
bounds), so a parameter that only moves a bound that never binds has no effect: it is
reported as ``identifiable = False`` and left at its start value. numpy only: the fit has a
handful of parameters, which does not justify scipy as a dependency.

A fitted value describes the table it was fitted to, not a CPU: store one in a profile only
with its class ``derived`` and its source saying what it was fitted to, and fit only what the
table identifies (the rows where the fitted parameter's bound binds).
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rxlab.cost.pricing import throughput
from rxlab.cost.profiles import INT_PARAMS, PARAMS
from rxlab.errors import bad, check_int_range


@dataclass(frozen=True)
class Calibration:
    """``profile``: the fitted profile; ``residuals``: one row per table row (measured, model,
    residual, relative, binds, train); ``parameters``: name, start, fitted, rel_stderr (linearised
    relative standard error), identifiable."""

    profile: object
    residuals: pd.DataFrame
    parameters: pd.DataFrame

    def rms(self, train=None):
        """Root-mean-square residual in Gbps (over training rows, held-out rows, or all)."""
        r = self.residuals if train is None else self.residuals[self.residuals["train"] == train]
        return float(np.sqrt((r["residual"] ** 2).mean())) if len(r) else float("nan")


def calibrate(profile, measured, free, target="gbps", train=None, max_iter=200, source=None, device_factor=True):
    """Fit the parameters named in ``free`` so that ``throughput(measured, profile)`` matches
    ``measured[target]``.

    ``measured``: rows of ``Result.to_frame()`` (configuration, counters, metrics) with the
    measured Gbps in column ``target`` (finite, >= 0). ``train``: boolean mask of the rows to fit
    on (default all); the others are only scored. ``device_factor``: as in ``throughput`` (False:
    fit the CPU model alone). Returns a :class:`Calibration` whose profile gives each fitted
    parameter class ``derived`` and the range fitted value x exp(+-2 relative standard errors) (a
    point where the error is unknown), clipped to the parameter's allowed range. A parameter the
    data pushes to the end of its range (``rxlab.cost.profiles.PARAMS``) stops there.
    """
    if not isinstance(free, (list, tuple)) or not free:
        raise bad("free", free, "a non-empty list of parameter names")
    for name in free:
        if name not in PARAMS or name in INT_PARAMS:
            raise bad("free", name, "names of continuous profile parameters: "
                      + ", ".join(k for k in PARAMS if k not in INT_PARAMS))
    if len(set(free)) != len(free):
        raise bad("free", free, "each parameter named once")
    check_int_range("max_iter", max_iter, 1, 100_000)
    if target not in measured.columns:
        raise bad("target", target, "a column of the measured table")
    df = measured.reset_index(drop=True)
    try:
        y = df[target].astype(float).to_numpy()
    except (TypeError, ValueError):
        raise bad(f"measured[{target!r}]", df[target].tolist()[:5], "numbers of Gbps") from None
    wrong = np.flatnonzero(~np.isfinite(y) | (y < 0))
    if len(wrong):
        raise bad(f"measured[{target!r}]", float(y[wrong[0]]),
                  f"a finite number of Gbps >= 0 in every row (row {int(wrong[0])} is not)")
    if train is None:
        mask = np.ones(len(df), bool)
    else:
        mask = np.asarray(train)
        if mask.dtype != bool:  # row numbers [0, 2] would read as a mask of rows 1..n
            raise bad("train", train, f"a boolean mask of {len(df)} rows (for row numbers i: "
                      f"np.isin(np.arange({len(df)}), i))")
    if mask.shape != (len(df),) or not mask.any():
        raise bad("train", train, f"a boolean mask of {len(df)} rows selecting at least one")
    lo_v = np.array([float(PARAMS[k][0]) for k in free])
    hi_v = np.array([float(PARAMS[k][1]) for k in free])
    lo, hi = np.log(np.maximum(lo_v, 1e-6)), np.log(hi_v)
    start = np.array([float(profile[k]) for k in free])
    theta = np.clip(np.log(np.maximum(start, 1e-6)), lo, hi)

    def values(th):  # exp(log(hi)) may exceed hi by an ulp: clip to the range itself
        return np.clip(np.exp(th), lo_v, hi_v)

    def model(th):
        return throughput(df, profile.with_values(**dict(zip(free, values(th)))), device_factor).gbps.to_numpy()

    def cost(th):
        r = model(th)[mask] - y[mask]
        return r, float(r @ r)

    def jacobian(th, r, h=1e-4):
        """Forward differences, backward at a parameter's upper bound: the step stays in range."""
        jac = np.empty((mask.sum(), len(free)))
        for j in range(len(free)):
            t2 = th.copy()
            step = h if th[j] + h <= hi[j] else -h
            t2[j] += step
            jac[:, j] = (cost(t2)[0] - r) / step
        return jac

    r, c = cost(theta)
    lam = 1e-2
    for _ in range(max_iter):
        jac = jacobian(theta, r)
        g = jac.T @ r
        a = jac.T @ jac
        improved = False
        while lam < 1e8:
            step = np.linalg.solve(a + lam * np.diag(np.diag(a) + 1e-9), -g)
            t_new = np.clip(theta + step, lo, hi)
            r_new, c_new = cost(t_new)
            if c_new < c:
                improved = abs(c - c_new) > 1e-10 * max(c, 1e-12)
                theta, r, c = t_new, r_new, c_new
                lam = max(lam / 3, 1e-9)
                break
            lam *= 4
        if not improved:
            break
    fitted = values(theta)
    jac = jacobian(theta, r)  # at the fitted point: what the data says about it
    ident = [bool(np.any(jac[:, j] != 0)) for j in range(len(free))]
    rel_err = _relative_stderr(jac, r, ident)
    n_train = int(mask.sum())
    note = source or f"fitted by rxlab.calibrate to {n_train} measured rows (free: {', '.join(free)})"
    vals = {k: (float(v) if ok else float(s)) for k, v, s, ok in zip(free, fitted, start, ident)}
    ranges = {}
    for (k, v), err in zip(vals.items(), rel_err):
        lo_k, hi_k = PARAMS[k][:2]
        ranges[k] = (v, v) if np.isnan(err) else (max(lo_k, min(v, v * np.exp(-2 * err))),
                                                   min(hi_k, max(v, v * np.exp(2 * err))))
    out = profile.with_values(source=note, cls="derived", ranges=ranges, **vals)
    tp = throughput(df, out, device_factor)
    res = pd.DataFrame({"measured": y, "model": tp.gbps.to_numpy(), "binds": tp.binds.to_numpy(),
                        "train": mask})
    res["residual"] = res["model"] - res["measured"]
    res["relative"] = res["residual"] / res["measured"]
    keep = [c for c in ("strategy", "connections", "page_size", "mtu") if c in df.columns]
    res = pd.concat([df[keep], res], axis=1)
    params = pd.DataFrame({"parameter": list(free), "start": start, "fitted": [out[k] for k in free],
                           "rel_stderr": rel_err, "identifiable": ident, "unit": [PARAMS[k][2] for k in free]})
    return Calibration(out, res, params)


def _relative_stderr(jac, r, ident):
    """Linearised standard errors of the fitted parameters, relative (the fit is in log space):
    sqrt(diag(s^2 (J'J)^-1)) with s^2 = RSS / (rows - parameters); NaN where not identifiable or
    when there are no more rows than parameters."""
    out = np.full(len(ident), np.nan)
    cols = [j for j, ok in enumerate(ident) if ok]
    dof = len(r) - len(cols)
    if not cols or dof <= 0:
        return out
    jj = jac[:, cols]
    cov = np.linalg.pinv(jj.T @ jj) * float(r @ r) / dof
    out[cols] = np.sqrt(np.maximum(np.diag(cov), 0.0))
    return out


# bench_page_pool_cross_cpu (netoptimizer/prototype-kernel kernel/lib/bench_page_pool_cross_cpu.c):
# the per-page costs of its two sides that the same author's bench_page_pool_simple measured on the
# same CPU (E5-1650 v4; xdp-project/xdp-project areas/mem/page_pool07_bench_DMA_fix.org): a fast-path
# alloc + direct recycle 4.4 ns, through the ptr_ring 13.1 ns (the 8.7 ns more split evenly between
# produce and consume). The allocator's page: half the fast path, a ring consume (its alloc cache is
# refilled from the pool's ptr_ring) and the SPSC produce into a returner's queue (a ring store, like
# a produce); a returner's: its SPSC consume before taking the producer lock.
BENCH_ALLOC_NS = 4.4 / 2 + 8.7 / 2 + 8.7 / 2
BENCH_CONSUME_NS = 8.7 / 2
BENCH_QUEUE = 1024  # run_benchmarks(): run_bench_pp_cpus(returning_cpus, loops, 1024, 0)


def cross_cpu_bench(n, hold_ns, handoff_ns, loops=4000, alloc_ns=BENCH_ALLOC_NS, consume_ns=BENCH_CONSUME_NS,
                    q_size=BENCH_QUEUE):
    """``bench_page_pool_cross_cpu`` with ``n`` returning CPUs, simulated event by event with its own
    structure: one CPU (pp_tasklet_simulate_rx_napi) allocates pages from the pool (``alloc_ns``
    each) and deals them round-robin into ``n`` SPSC ptr_rings of ``q_size`` (when the next one is
    full it retries that one: ``cnt`` only moves on a successful produce); each returner
    (time_pp_put_page_recycle) spins on its empty ring inside the timed loop, consumes
    (``consume_ns``) and calls page_pool_put_page(), whose ptr_ring_produce() holds the pool's
    ``producer_lock`` for ``hold_ns``, plus ``handoff_ns`` when the CPU that held it last was another
    one (the lock's and the ring's producer lines come from that CPU's cache). Waiters take the lock
    in the order they asked for it.

    Returns {t_ns: ns per page per returner, as the benchmark prints it (time_bench_stop: its
    elapsed time over its pages, spins included), pool_mpps: pages per µs through the pool, alloc_busy,
    lock_busy: the share of the run the allocator and the lock were busy, spin: the returners' share
    waiting for a page, lock_wait: their share waiting for the lock, binds: "allocator", "lock" or
    "returners", the busiest}."""
    import heapq

    check_int_range("n", n, 1, 64)
    total = n * loops
    arrive = np.zeros(total)  # when the allocator put page j into ring j % n
    consumed = np.full(total, np.inf)  # when its returner took it out
    done = 0  # pages dealt so far
    ta = 0.0

    def deal(upto):
        nonlocal done, ta
        while done <= upto:
            j = done
            ta += alloc_ns
            back = j - q_size * n  # ring j % n has room once the page q_size before it there left
            if back >= 0:
                ta = max(ta, consumed[back])
            arrive[j] = ta
            done += 1

    free = np.zeros(n)  # each returner's clock
    start = np.full(n, np.nan)
    spin = np.zeros(n)
    wait = np.zeros(n)
    page = np.zeros(n, int)
    lock_free, last, lock_busy = 0.0, -1, 0.0
    deal(n - 1)
    # each returner's next lock request, earliest first (heapq): (time, cpu)
    heap = []
    for i in range(n):
        s = max(free[i], arrive[i])
        start[i] = s  # the timer starts at its first page
        heap.append((s + consume_ns, i))
        consumed[i] = s + consume_ns
    heapq.heapify(heap)
    while heap:
        t, i = heapq.heappop(heap)
        got = max(t, lock_free)
        wait[i] += got - t
        held = hold_ns + (handoff_ns if last not in (-1, i) else 0.0)
        lock_free, last = got + held, i
        lock_busy += held
        free[i] = lock_free
        page[i] += 1
        if page[i] == loops:
            continue
        j = page[i] * n + i
        if j >= done:
            deal(j)
        s = max(free[i], arrive[j])
        spin[i] += s - free[i]
        consumed[j] = s + consume_ns
        heapq.heappush(heap, (s + consume_ns, i))
    elapsed = free - start
    span = free.max() - start.min()
    t_ns = float(np.mean(elapsed / loops))
    # a returner waiting for the lock is not doing its own work: the lock's share says that
    shares = {"allocator": total * alloc_ns / span, "lock": lock_busy / span,
              "returners": float(np.mean(1 - (spin + wait) / elapsed))}
    return {"t_ns": t_ns, "pool_mpps": total / span * 1e3, "alloc_busy": shares["allocator"],
            "lock_busy": shares["lock"], "spin": float(np.mean(spin / elapsed)),
            "lock_wait": float(np.mean(wait / elapsed)), "binds": max(shares, key=shares.get)}


def _golden(f, lo, hi, iters=40):
    """The minimum of a unimodal ``f`` on [lo, hi] (golden-section search)."""
    g = (5 ** 0.5 - 1) / 2
    a, b = lo, hi
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(iters):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = f(d)
    return (a + b) / 2


def fit_cross_cpu(published, loops=4000):
    """Fit the producer lock to ``bench_page_pool_cross_cpu``'s published t(n) (a frame with
    ``returning_cpus`` and ``ns_per_page``, one run of one CPU: data/page_pool_cross_cpu.csv) by
    simulating the benchmark (:func:`cross_cpu_bench`): ``hold_ns`` (the lock held by the CPU that held
    it last, so no line moves) from t(1), where the one returner never hands the lock on;
    ``handoff_ns`` (what taking it from another CPU adds) minimising the squared log residuals of
    t(n), n >= 2. Returns (hold_ns, handoff_ns, a frame per n: published, model, relative, and what
    the simulated benchmark says binds it)."""
    pub = published.set_index("returning_cpus")["ns_per_page"].astype(float)
    if 1 not in pub.index or len(pub) < 2:
        raise bad("published", list(pub.index), "t(n) for n = 1 and at least one n >= 2")
    hold = _golden(lambda h: (cross_cpu_bench(1, h, 0.0, loops)["t_ns"] - pub[1]) ** 2, 0.0, pub[1])
    many = [n for n in pub.index if n > 1]

    def cost(x):
        return sum(np.log(cross_cpu_bench(n, hold, x, loops)["t_ns"] / pub[n]) ** 2 for n in many)

    handoff = _golden(cost, 0.0, float(pub[many].max()))
    rows = []
    for n in pub.index:
        b = cross_cpu_bench(int(n), hold, handoff, loops)
        rows.append({"returning_cpus": int(n), "published_ns": pub[n], "model_ns": b["t_ns"],
                     "relative": b["t_ns"] / pub[n] - 1, "pool_mpps_published": n / pub[n] * 1e3,
                     "pool_mpps_model": b["pool_mpps"], "alloc_busy": b["alloc_busy"],
                     "lock_busy": b["lock_busy"], "spin": b["spin"], "binds": b["binds"]})
    return hold, handoff, pd.DataFrame(rows)
