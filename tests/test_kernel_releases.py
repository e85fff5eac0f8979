"""Kernel releases as a parameter (issue 12): the table of data/kernels.toml, SimConfig(kernel=...)
and its defaults, the window of each release (include/net/tcp.h tcp_win_from_space()), and the
``rxlab kernels`` / ``--kernel`` command line."""

import itertools
import json
import pickle
import re
import subprocess
import sys

import pytest

from rxlab import Reconfig, SimConfig, simulate
from rxlab.cli import main
from rxlab.counters import Ctr
from rxlab.engine.layout import CN, RC, G, WinMode
from rxlab.engine.tcp import tcp_win_from_space as engine_win
from rxlab.kernel import releases
from rxlab.kernel.mana import mana_default_num_queues, mana_rx_geometry, mana_set_ringparam_rx
from rxlab.kernel.pagepool import pp_alloc_cache
from rxlab.kernel.sizes import skb_truesize
from rxlab.kernel.tcp import TCP_DEFAULT_SCALING_RATIO, tcp_scaling_ratio_init_6_6, tcp_win_from_space
from rxlab.model.config import RELEASE_FIELDS
from rxlab.model.simulate import build, plan
from rxlab.studies.grid import expand

NEWEST = releases.NEWEST
DEFAULT = releases.DEFAULT
HEX = re.compile(r"[0-9a-f]{12,40}")


def first(pred):
    """The first release (oldest first) for which ``pred`` holds."""
    return next(r.name for r in releases.releases() if pred(r))


# -- the table ------------------------------------------------------------------------------------

def test_the_table_has_the_releases_the_issue_asks_for():
    names = releases.names()
    mainline = [r.name for r in releases.releases() if not r.base]
    assert names[0] == "6.1" and "6.6" in names and NEWEST == mainline[-1]
    assert first(lambda r: r.scaling_ratio_init == 128) == "6.10"  # 697a6c8cec03
    assert first(lambda r: r.tcp_rmem_max == 32 << 20) == "6.16"  # 572be9bf9d0d
    assert first(lambda r: r.admission == "rmem_plus_truesize") == "6.17"  # 1d2fbaad7cd8
    assert first(lambda r: r.admission == "rmem_plus_len") == "6.18"  # f017c1f768b6
    assert first(lambda r: r.rcvbuf_grow == "copied_2x") == "6.16"  # 65c5287892e9
    assert first(lambda r: r.rcvbuf_grow == "copied_2x_grow") == "6.19"  # aa251c84636c
    newest = releases.newest()
    assert (newest.mana_truesize, newest.mana_queue_cap, newest.mana_rx_layout) == ("backing_alloc", 16,
                                                                                  "page_pool_frag")
    assert mainline == sorted(mainline, key=lambda n: tuple(map(int, n.split("."))))
    assert first(lambda r: r.prune_empty == "drop") == "6.17"  # 972ca7a3bc9a
    assert first(lambda r: r.admission == "rmem_before" and r.window == "scaling_ratio" and r.prune_empty == "drop"
                 and not r.base) == "7.0"  # 026dfef287c0 gives up on 1d2fbaad7cd8


# -- stable point releases and fixes -------------------------------------------------------------

def test_the_zero_window_ack_of_a_memory_failure_by_release():
    """e2142825c120 'net: tcp: send zero-window ACK when no memory' (net-next, Aug 2023: 6.6) answers a
    refused skb with an ACK advertising 0; 8c670bdfa58e 'tcp: correct handling of extreme memory squeeze'
    (6.14, a stable fix in 6.6.y and 6.12.y by February 2025) records it as rcv_wnd 0. Each row that
    changes it, and the point releases that inherit or backport it."""
    r = releases.release
    assert [r(n).rcvq_nomem for n in ("6.1", "6.6", "6.6.48", "6.10.7", "6.13")] == \
        ["drop"] + ["zero_window"] * 4
    assert first(lambda x: x.rcvq_nomem == "zero_window") == "6.6"
    assert first(lambda x: x.rcvq_nomem == "zero_window_kept") == "6.16"  # rxlab has no 6.14 row
    assert r("6.6").source("rcvq_nomem").commit == "e2142825c120"
    for n in ("6.6.80", "6.12.17", "6.16", "6.17.3", "7.1"):
        assert r(n).rcvq_nomem == "zero_window_kept" and r(n).source("rcvq_nomem").commit == "8c670bdfa58e"
    assert r("6.12").rcvq_nomem == "zero_window" and r("6.6.80").source("rcvq_nomem").release == "6.14"


def test_point_releases_follow_their_branch_and_its_backports():
    """"6.18" is 6.18.0; 026dfef287c0 reached 6.18.17 and 6.19.7, f017c1f768b6 reached 6.17.3; a point
    release between rows behaves as the newest row of its branch up to it, and says so."""
    r = releases.release
    assert [r(n).admission for n in ("6.17", "6.17.2", "6.17.3", "6.17.9")] == \
        ["rmem_plus_truesize", "rmem_plus_truesize", "rmem_plus_len", "rmem_plus_len"]
    assert r("6.18.0").admission == r("6.18.16").admission == "rmem_plus_len"
    assert r("6.18.17").admission == r("6.18.40").admission == r("6.19.7").admission == "rmem_before"
    assert r("6.19.6").admission == "rmem_plus_len"
    assert r("6.18.17").source("admission").commit == "026dfef287c0"
    assert r("6.18.17").source("mana_rx_layout").commit == "730ff06d3f5c"  # the rest is 6.18's
    late = r("6.18.40")
    assert late.name == "6.18.40" and late.summary.startswith("as 6.18.17:")
    assert SimConfig(kernel="6.18.40").release.admission == "rmem_before"
    for bad_name in ("6.15.3", "6.18.x", "7"):
        with pytest.raises(ValueError, match=rf"^kernel={bad_name!r} is not allowed: one of"):
            SimConfig(kernel=bad_name)


def test_a_run_names_a_release_plus_explicit_fixes():
    cfg = SimConfig(kernel="6.17", fixes=("026dfef287c0",))
    assert cfg.release.admission == "rmem_before" and cfg.release.name == "6.17+026dfef287c0"
    assert cfg.release.prune_empty == "drop" and SimConfig(kernel="6.17").release.admission == "rmem_plus_truesize"
    assert SimConfig(kernel="6.17", fixes=["026dfef287c0"]).fixes == ("026dfef287c0",)
    with pytest.raises(ValueError, match=r"^fixes='deadbeef0000' is not allowed: commits of data/kernels.toml"):
        SimConfig(kernel="6.17", fixes=("deadbeef0000",))
    with pytest.raises(ValueError, match=r"^fixes='026dfef287c0' is not allowed: a tuple of commit ids"):
        SimConfig(fixes="026dfef287c0")


def test_a_point_row_names_the_mainline_row_it_follows():
    import tomllib

    data = tomllib.loads(releases.KERNELS_TOML.read_text())
    data["release"][-1]["base"] = "6.17"  # 6.19.7 said to follow 6.17
    with pytest.raises(ValueError, match=r"release 6.19.7.base='6.17' is not allowed: the earlier mainline row"):
        releases.parse(data)


def test_every_behaviour_of_every_row_cites_its_commit():
    for r in releases.releases():
        assert r.changes, r.name
        assert {b for b, _ in r.sources} == set(releases.BEHAVIOURS)
        for c in (*r.changes, *(c for _, c in r.sources)):
            assert HEX.fullmatch(c.commit) or c.commit == "v6.1", (r.name, c)
            assert c.subject and c.where, (r.name, c.behaviour)
            assert r.source(c.behaviour).value == getattr(r, c.behaviour)
    first_row = releases.releases()[0]
    assert {c.behaviour for c in first_row.changes} == set(releases.BEHAVIOURS)
    # a later row changes something, and only with a commit (never "the value at a tag")
    for r in releases.releases()[1:]:
        assert all(HEX.fullmatch(c.commit) for c in r.changes), r.name


def test_a_row_keeps_what_it_does_not_change():
    """A mainline row keeps the mainline row before it; a point release keeps its base."""
    rows = releases.releases()
    follows = {}
    for before, after in itertools.pairwise([r for r in rows if not r.base]):
        follows[after] = before
    follows.update({r: releases.release(r.base) for r in rows if r.base})
    for after, before in follows.items():
        changed = {c.behaviour for c in after.changes}
        for b in releases.BEHAVIOURS:
            if b not in changed:
                assert getattr(after, b) == getattr(before, b), (after.name, b)


def test_the_table_states_what_the_engine_does_not_model():
    todo = releases.not_modelled()
    assert {"mana_rx_layout"} == set(todo)
    sixone = releases.release("6.1")
    assert not sixone.source("mana_rx_layout").modelled  # page_alloc: simulated as page_pool pages
    assert releases.newest().source("mana_rx_layout").modelled
    assert releases.newest().source("window").modelled


@pytest.mark.parametrize("edit,needle", [
    (lambda d: d["release"][0]["changes"].pop("window"),
     r"release 6\.1\.changes=\['window'\] is not allowed: nothing missing"),
    (lambda d: d["release"][1]["changes"]["window"].update(value="half"),
     r"release 6\.6\.changes\.window\.value='half' is not allowed: one of 'adv_win_scale', 'scaling_ratio'"),
    (lambda d: d["release"][1]["changes"]["window"].update(commit="abc"),
     r"release 6\.6\.changes\.window\.commit='abc' is not allowed: a commit hash"),
    (lambda d: d["release"][1]["changes"].update(colour={"value": 1}),
     r"release 6\.6\.changes=\['colour'\] is not allowed: behaviours of"),
    (lambda d: d["release"][2].update(name="6.1"), r"release 6\.1\.name='6\.1' is not allowed: a name not used"),
    (lambda d: d["release"][1]["changes"]["skb_defer_max"].update(value="64"),
     r"skb_defer_max\.value='64' is not allowed: a int"),
])
def test_a_bad_table_names_the_row_and_the_key(edit, needle):
    import tomllib

    data = tomllib.loads(releases.KERNELS_TOML.read_text())
    data["release"][1]["changes"].setdefault("skb_defer_max", {"value": 64, "commit": "b61785852ed0",
                                                              "subject": "s", "where": "w"})
    edit(data)
    with pytest.raises(ValueError, match=needle):
        releases.parse(data)


# -- the window (include/net/tcp.h tcp_win_from_space) ----------------------------------------------

@pytest.mark.parametrize("space,adv_win_scale,window", [
    (1_000_000, 1, 500_000),  # the default: half the free space
    (1001, 1, 501),  # space - (space >> 1): the odd byte stays
    (1_000_000, 2, 750_000),  # space - space/4
    (1_000_000, -1, 500_000),  # tcp_adv_win_scale <= 0: space >> 1
    (1_000_000, -2, 250_000),
    (0, 1, 0),
])
def test_window_before_6_6_is_space_minus_space_shifted_by_adv_win_scale(space, adv_win_scale, window):
    """include/net/tcp.h tcp_win_from_space() before dfa2f0483360: tcp_adv_win_scale <= 0 ?
    space >> -tcp_adv_win_scale : space - (space >> tcp_adv_win_scale)."""
    assert tcp_win_from_space(space, "adv_win_scale", adv_win_scale=adv_win_scale) == window
    assert engine_win(space, 0, WinMode.adv_win_scale, adv_win_scale) == window


@pytest.mark.parametrize("space,ratio,window", [
    (1_000_000, 65, 253_906),  # 6.6-6.9's initial ratio: 65e6 / 256 = 253906.25
    (1_000_000, 128, 500_000),  # TCP_DEFAULT_SCALING_RATIO from 6.10
    (1_000_000, 182, 710_937),  # a measured len/truesize of 0.711 (2112-byte truesize, 1500-byte packet)
    (6_291_456, 88, 2_162_688),  # 1500 / (4096 + 256) of a full 6 MB rcvbuf: 6291456 * 88 / 256
    (255, 255, 254),
])
def test_window_from_6_6_is_space_times_scaling_ratio_over_256(space, ratio, window):
    """include/net/tcp.h tcp_win_from_space() from dfa2f0483360 (6.6): ((s64)space * scaling_ratio)
    >> TCP_RMEM_TO_WIN_SCALE."""
    assert tcp_win_from_space(space, "scaling_ratio", scaling_ratio=ratio) == window
    assert engine_win(space, ratio, WinMode.scaling_ratio, 1) == window


def test_the_initial_scaling_ratio_follows_tcp_scaling_ratio_init():
    """dfa2f0483360: (1200 << 8) / SKB_TRUESIZE(4096) = 307200 / 4672 = 65; 697a6c8cec03:
    TCP_DEFAULT_SCALING_RATIO = 1 << 7."""
    assert skb_truesize(4096) == 4672
    assert tcp_scaling_ratio_init_6_6() == 65 == releases.release("6.6").scaling_ratio_init
    assert TCP_DEFAULT_SCALING_RATIO == 128 == releases.newest().scaling_ratio_init
    assert releases.release("6.1").scaling_ratio_init == 0


def test_release_formulas_of_mana_and_page_pool():
    # f73896b4197e (7.0): the one-buffer-per-page path charges PAGE_SIZE << get_order(alloc_size)
    # ("[PATCH net] net: mana: Fix RX skb truesize accounting", 2026-03-23: 3648 -> 4352, ...)
    for page, mtu, before, after in ((4096, 3000, 3648, 4352), (4096, 4000, 4608, 8448), (4096, 9000, 9600, 16640),
                                     (16384, 9000, 9600, 16640)):
        g0, g1 = (mana_rx_geometry(page, mtu, truesize_fix=fix) for fix in (False, True))
        assert (g0.truesize, g1.truesize) == (before, after) and g0.order == g1.order
        assert g1.truesize == g1.truesize_pinned  # no longer under-reported
    assert mana_rx_geometry(4096, 1500, truesize_fix=True).truesize == 2112  # fragments: unchanged
    assert mana_rx_geometry(4096, 9000, variant="pre", truesize_fix=True).truesize == 9600  # predates the fix
    # 15abbe7c8266 (7.1): refill 64 / 16 / 4 on 4 / 16 / 64 KB pages, the cache twice that
    assert [pp_alloc_cache(p, True) for p in (4096, 16384, 65536)] == [(128, 64), (32, 16), (8, 4)]
    assert pp_alloc_cache(65536, False) == (128, 64)
    # 45b2b84ac6fd (7.1): min(num_online_cpus, 64, 16); before it min(num_online_cpus, 64)
    assert [mana_default_num_queues(c, 16) for c in (4, 16, 96)] == [4, 16, 16]
    assert [mana_default_num_queues(c, 64) for c in (4, 16, 96)] == [4, 16, 64]
    # 3410d0e14f9a (6.12): roundup_pow_of_two, refused below 128 and above 8192
    assert [mana_set_ringparam_rx(n) for n in (128, 129, 1000, 3000, 8192)] == [128, 256, 1024, 4096, 8192]
    for n in (127, 8193):
        with pytest.raises(ValueError, match=rf"ring_size={n} is not allowed: 128\.\.8192"):
            mana_set_ringparam_rx(n)


def _params(cfg):
    st, rx = build(cfg, plan(cfg))
    return st, rx


def test_each_release_hands_the_engine_its_window():
    _, old = _params(SimConfig(kernel="6.1", queues=1, packets=10))
    _, mid = _params(SimConfig(kernel="6.6", queues=1, packets=10))
    _, new = _params(SimConfig(queues=1, packets=10))
    assert (old.rc[RC.win_mode], old.rc[RC.adv_win_scale], old.rc[RC.scaling_init]) == (WinMode.adv_win_scale, 1, 128)
    assert (mid.rc[RC.win_mode], mid.rc[RC.scaling_init]) == (WinMode.scaling_ratio, 65)
    assert (new.rc[RC.win_mode], new.rc[RC.scaling_init]) == (WinMode.scaling_ratio, 128)


def test_half_the_space_grows_the_window_less_than_the_measured_ratio_for_bloated_skbs():
    """Full pages on 4 KB: len/truesize = 1448 / 4352, scaling_ratio 85 for one segment, up to 89 for a
    GRO aggregate of the first flight (its stolen heads charged an sk_buff less each). Autotuning takes
    both releases' sk_rcvbuf to tcp_rmem[2] (1 MB) and window_clamp with it: 6.1's half (524288), 6.6's
    that ratio of it (about a third). What the window may open to is rcv_ssthresh, grown by tcp_grow_window() per skb: in 6.6
    the skb's own window, tcp_win_from_space(4352) = 1445, holds its 1448 bytes, so it grows by 2 x
    advmss up to window_clamp; in 6.1 half of 4352 (2176) does not, so only __tcp_grow_window() grows
    it, while rcv_ssthresh is at most half the window of tcp_rmem[2] (262144): it stops one step (at most
    twice a 64 KB GRO skb's len) past that, at a quarter of the buffer. The senders' congestion windows,
    slow-starting over 2,000 packets at a 1 ms RTT, bind before either receive window does."""
    kw = {"strategy": "full_page", "ring_size": 512, "queues": 1, "connections": 1, "tcp_rmem": 1 << 20,
          "app_read_us": 200.0, "rtt_us": 1000.0, "packets": 2000, "skb_defer_max": 64}
    old, new = simulate(SimConfig(kernel="6.1", **kw)), simulate(SimConfig(kernel="6.6", **kw))
    o, n = old.conn[0], new.conn[0]
    assert o[CN.rcvbuf] == n[CN.rcvbuf] == 1 << 20 and 85 <= n[CN.scaling] <= (1448 * 256) // (4352 - 256)
    assert (o[CN.window_clamp], n[CN.window_clamp]) == (1 << 19, ((1 << 20) * n[CN.scaling]) >> 8)
    half = tcp_win_from_space(1 << 20, "adv_win_scale") >> 1
    assert half < o[CN.rcv_ssthresh] <= half + 2 * 65536  # the step that passed it was the last
    assert n[CN.rcv_ssthresh] > o[CN.rcv_ssthresh]
    assert old.metrics()["packets"] == new.metrics()["packets"] == 2000  # the same packets


# -- SimConfig(kernel=...) -----------------------------------------------------------------------

def test_defaults_follow_the_release():
    old, new = SimConfig(kernel="6.1"), SimConfig()
    assert new.kernel == DEFAULT and new.release is releases.release(DEFAULT)
    assert (old.strategy, old.ring_size, old.queues, old.tcp_rmem, old.skb_defer_max) == (
        "full_page", 512, 64, 6 << 20, 64)
    assert (new.strategy, new.ring_size, new.queues, new.tcp_rmem, new.skb_defer_max) == (
        "pp_frag", 1024, 16, 32 << 20, 128)
    assert SimConfig(kernel="6.18").strategy == "pp_frag" and SimConfig(kernel="6.17").strategy == "full_page"
    assert SimConfig(kernel="7.0").queues == 64 and SimConfig(kernel="7.0", online_cpus=8).queues == 8
    assert SimConfig(online_cpus=8).queues == 8 == mana_default_num_queues(8, 16)


def test_6_1_and_the_newest_differ_exactly_as_the_table_says():
    old, new = SimConfig(kernel="6.1"), SimConfig()
    a, b = old.to_dict(), new.to_dict()
    differ = {k for k in a if a[k] != b[k]}
    behaviours = {n for n in releases.BEHAVIOURS if getattr(old.release, n) != getattr(new.release, n)}
    fields = {releases.BEHAVIOURS[n].field for n in behaviours} - {""}
    # every release-given field but tcp_rmem[1] (131072 in both) differs
    assert differ == fields | {"kernel"} == set(RELEASE_FIELDS) - {"tcp_rmem_default"} | {"kernel"}
    for n in behaviours:  # each difference is a row's change between the two, with its commit
        assert any(c.behaviour == n for r in releases.releases()[1:] for c in r.changes)
    # and what the engine is handed
    _, ro = _params(old.replace(queues=2, online_cpus=2))
    _, rn = _params(new.replace(queues=2, online_cpus=2))
    # (scaling_init: 6.6's 65 is gone by the newest, and 6.1's 128 is the half tcp_adv_win_scale 1 gives)
    # (rcvbuf: both start at tcp_rmem[1]; tcp_rmem_max is tcp_rmem[2]; grow and low_rtt_us are
    # tcp_rcv_space_adjust()'s rules; admission went from 6.1's rule and back by 7.0 (026dfef287c0), while
    # 972ca7a3bc9a's empty-queue return stayed; clamp is window_clamp's rule, a2cbb1603943 then
    # f5da7c45188e; rcv_wscale follows tcp_rmem[2]: ilog2(6 MB) - 15 = 7, ilog2(32 MB) - 15 = 10; ooo_ratio:
    # out-of-order skbs measure scaling_ratio from 6.17, 38d7e4443365)
    assert {RC(i).name for i in range(RC.n) if ro.rc[i] != rn.rc[i]} == {
        "tcp_rmem_max", "defer_max", "win_mode", "grow", "low_rtt_us", "prune_empty", "clamp", "rcv_wscale",
        "nomem",  # e2142825c120's zero-window ACK (6.6), recorded since 8c670bdfa58e (6.14)
        "ooo_ratio"}
    assert (ro.rc[RC.rcv_wscale], rn.rc[RC.rcv_wscale]) == (7, 10)


def test_truesize_fix_and_alloc_cache_follow_the_release():
    # f73896b4197e (7.0): MTU 9000 on 4 KB pages, one buffer per page: 9344 + 256 -> 16384 + 256
    assert SimConfig(kernel="6.19", mtu=9000).geometry().truesize == 9600
    assert SimConfig(kernel="7.0", mtu=9000).geometry().truesize == 16640
    assert SimConfig(kernel="7.0").geometry().truesize == SimConfig(kernel="6.19").geometry().truesize == 2112
    # 15abbe7c8266 (7.1): the alloc cache refill 64 / 16 / 4 on 4 / 16 / 64 KB pages, cache twice that
    assert [pp_alloc_cache(p, True) for p in (4096, 16384, 65536)] == [(128, 64), (32, 16), (8, 4)]
    assert pp_alloc_cache(65536, False) == (128, 64)
    for kernel, refill in (("7.0", 64), ("7.1", 4)):
        st, _ = _params(SimConfig(kernel=kernel, page_size=65536, queues=1, packets=10))
        assert (st.glob[G.pp_cache_size], st.glob[G.pp_cache_refill]) == (2 * refill, refill)


def test_ring_sizes_are_what_each_release_makes_of_them():
    assert SimConfig(ring_size=3000).ring_size == 4096 == mana_set_ringparam_rx(3000)  # roundup_pow_of_two
    assert SimConfig(ring_size=8192).ring_size == 8192 and SimConfig(kernel="6.12", ring_size=128).ring_size == 128
    with pytest.raises(ValueError, match=r"ring_size=127 is not allowed: 128\.\.8192"):
        SimConfig(ring_size=127)
    with pytest.raises(ValueError, match=r"ring_size=1024 is not allowed: 512 \(MANA in Linux 6\.1 has no "
                                         r"set_ringparam: it came with 3410d0e14f9a in 6\.12\)"):
        SimConfig(kernel="6.1", ring_size=1024)
    assert SimConfig(kernel="6.1", ring_size=512).ring_size == 512


def test_the_release_bounds_mtu_and_queues():
    with pytest.raises(ValueError, match=r"^mtu=9000 is not allowed: 1500 \(MANA in Linux 6\.1 fixes the MTU"):
        SimConfig(kernel="6.1", mtu=9000)
    assert SimConfig(kernel="6.6", mtu=9000, strategy="full_page").geometry().order == 2
    with pytest.raises(ValueError, match=r"^queues=16 is not allowed: 1\.\.8$"):
        SimConfig(online_cpus=8, queues=16)
    r = simulate(SimConfig(kernel="6.1", queues=1, connections=2, packets=400,
                           reconfigs=(Reconfig(at_packet=200, mtu=3000),)))
    assert not r.events[0]["ok"] and "ETH_DATA_LEN" in r.events[0]["error"]  # refused, as dev_set_mtu would


def test_given_values_win_and_survive_replace_of_the_kernel():
    cfg = SimConfig(tcp_rmem=1 << 20, queues=8, skb_defer_max=32, strategy="pp_frag_upfront", ring_size=3000)
    assert dict(cfg.given) == {"tcp_rmem": 1 << 20, "queues": 8, "skb_defer_max": 32,
                               "strategy": "pp_frag_upfront", "ring_size": 3000}
    old = cfg.replace(kernel="6.13")
    assert (old.kernel, old.tcp_rmem, old.queues, old.skb_defer_max, old.strategy, old.ring_size) == (
        "6.13", 1 << 20, 8, 32, "pp_frag_upfront", 4096)
    assert old.replace(kernel=NEWEST) == cfg and old.replace(kernel=NEWEST).given == cfg.given
    with pytest.raises(ValueError, match=r"^ring_size=3000 is not allowed: 512"):
        cfg.replace(kernel="6.1")  # a ring size 6.1 cannot set
    sixone = cfg.replace(kernel="6.1", ring_size=None)
    assert sixone.ring_size == 512 and sixone.tcp_rmem == 1 << 20
    # what was not given follows the release, back and forth
    plain = SimConfig(seed=3)
    assert plain.replace(kernel="6.1").to_dict() == SimConfig(kernel="6.1", seed=3).to_dict()
    assert plain.replace(kernel="6.1").replace(kernel=NEWEST) == plain
    assert plain.replace(online_cpus=4).queues == 4  # the default queue count re-derived too


def test_the_configuration_stays_a_hashable_cache_key():
    a, b = SimConfig(ring_size=3000), SimConfig(ring_size=4096)
    assert a == b and hash(a) == hash(b) and a.to_dict() == b.to_dict()  # the same run
    d = SimConfig(kernel="6.6").to_dict()
    assert d["kernel"] == "6.6" and all(d[f] is not None for f in RELEASE_FIELDS)
    c = pickle.loads(pickle.dumps(a))  # process pools and Dask ship configurations
    assert c == a and c.given == a.given and c.release == a.release and c.spec == a.spec


def test_sweeps_take_kernel_as_any_field():
    configs, invalid = expand({"kernel": ["6.1", NEWEST], "ring_size": [512, 1024], "packets": [100]})
    assert [(c.kernel, c.ring_size) for c in configs] == [("6.1", 512), (NEWEST, 512), (NEWEST, 1024)]
    assert len(invalid) == 1 and "set_ringparam" in invalid[0]["error"]
    with pytest.raises(ValueError, match=r"kernel='5\.4' is not allowed: one of '6\.1'"):
        expand({"kernel": ["5.4"]})


@pytest.mark.parametrize("kernel,allowed", [
    ("5.4", "one of '6.1', '6.6'"),
    ("", "one of '6.1'"),
    (6.1, "a release name (a string): one of '6.1'"),
])
def test_a_bad_release_name_is_a_one_line_error_naming_the_field(kernel, allowed):
    with pytest.raises(ValueError) as e:
        SimConfig(kernel=kernel)
    msg = str(e.value)
    assert msg.startswith(f"kernel={kernel!r} is not allowed: ") and allowed in msg and "\n" not in msg


# -- the command line ----------------------------------------------------------------------------

def test_rxlab_kernels_prints_the_table_with_commits(capsys):
    assert main(["kernels"]) == 0
    out = capsys.readouterr().out
    for r in releases.releases():
        assert re.search(rf"^{re.escape(r.name)}( \?)?  {re.escape(r.summary)}$", out, re.MULTILINE), r.name
        for c in r.changes:
            line = next(x for x in out.splitlines() if x.strip().startswith(c.behaviour) and c.commit in x
                        and c.subject in x)
            assert ("[not modelled]" in line) == (not c.modelled), line
    tail = out.split("Not modelled by the engine yet")[1]
    assert all(f"  {b}: " in tail for b in releases.not_modelled())
    assert main(["kernels", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in d["releases"]] == list(releases.names())
    by_name = {r["name"]: r for r in d["releases"]}
    assert by_name["7.1"]["changes"][0]["commit"] == "45b2b84ac6fd" and by_name["7.1"]["base"] == ""
    assert by_name["6.18.17"]["base"] == "6.18" and by_name["6.18.17"]["changes"][0]["commit"] == "026dfef287c0"
    assert main(["kernels", "--kernel", "6.6"]) == 0
    out = capsys.readouterr().out
    assert "window             = scaling_ratio" in out and "dfa2f0483360" in out and "b49960a05e32" in out


def test_geometry_follows_the_kernel(capsys):
    assert main(["geometry", "--kernel", "6.1", "--page-size", "65536", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["variant"], d["ring_size"], d["queues"], d["truesize"]) == ("pre", 512, 64, 65536 + 256)
    assert main(["geometry", "--mtu", "9000", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["truesize"] == 16640  # the newest has f73896b4197e
    assert main(["geometry", "--kernel", "6.19", "--mtu", "9000", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["truesize"] == 9600


def _simulate_json(capsys, *argv):
    """``rxlab simulate --json`` in this process: the command's defaults, not its process, are tested."""
    assert main(["simulate", "--json", "--packets", "2000", "--connections", "8", *argv]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.jit_only  # two CLI runs (6.1 fills 64 rings): seconds compiled
def test_simulate_runs_with_the_oldest_and_the_newest_kernel(capsys):
    old, new = _simulate_json(capsys, "--kernel", "6.1"), _simulate_json(capsys, "--kernel", NEWEST)
    differ = {k for k in old["config"] if old["config"][k] != new["config"][k]}
    assert differ == set(RELEASE_FIELDS) - {"tcp_rmem_default"} | {"kernel"}  # tcp_rmem[1]: 131072 in both
    assert old["config"]["kernel"] == "6.1" and old["metrics"]["packets"] == new["metrics"]["packets"] == 2000
    assert (old["config"]["queues"], new["config"]["queues"]) == (64, 16)


def test_bad_kernel_on_the_command_line_is_one_line():
    p = subprocess.run([sys.executable, "-m", "rxlab", "simulate", "--kernel", "5.4"], capture_output=True,
                       text=True, check=False)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.strip().splitlines() == [
        "rxlab simulate: error: kernel='5.4' is not allowed: one of " + ", ".join(map(repr, releases.names()))
        + ", or a stable point release X.Y.Z of one of them (behaving as its newest row up to Z)"]


@pytest.mark.jit_only  # six runs of 60,000 packets
def test_seed_000s_64k_gain_depends_on_the_release():
    """Seed 000's ~200% on 64 KB pages: a full page per 1500-byte packet charges 65792 B of truesize
    (len/truesize 0.022). Under a 6 MB tcp_rmem[2] (before 572be9bf9d0d, 6.16) autotuning stops at
    6 MB, the full pages' window binds and fragments are several times faster; under 32 MB (6.16) both
    are bound by the CPUs; 6.17's admission (1d2fbaad7cd8, tcp_try_rmem_schedule() by tcp_can_ingest())
    drops nothing: the first flight's aggregate, refused but forced into the empty queue, is answered
    by a zero-window ACK (e2142825c120) and the sender waits for the read: about 6.16's gain."""
    from rxlab import platform, throughput
    from rxlab.studies.seeds import QUICK_PACKETS, SEED000

    prof = platform("typical_arm64")

    def gain(kernel):
        runs = [simulate(SimConfig(kernel=kernel, strategy=s, packets=QUICK_PACKETS, **SEED000))
                for s in ("pp_frag", "full_page")]
        frag, full = (throughput(r, prof).iloc[0] for r in runs)
        return (frag.gbps / full.gbps - 1) * 100, full.binds, runs[1].counters

    assert releases.release("6.13").tcp_rmem_max == 6 << 20 and releases.release("6.16").tcp_rmem_max == 32 << 20
    (old, old_binds, _), (mid, mid_binds, mid_c), (new, _, new_c) = gain("6.13"), gain("6.16"), gain("6.17")
    assert old > 100 and old_binds == "window"  # the window, priced on typical_arm64's costs
    assert 0 < mid < 50 and mid_binds == "cpu" and mid_c[Ctr.RcvPruned] == 0
    # (its first flight's aggregate is refused all the same: forced into the empty queue, answered by a
    # zero-window ACK, e2142825c120; the sender waits for the read, and the gain moves by a hair)
    assert new == pytest.approx(mid, abs=0.1) and new_c[Ctr.RcvPruned] == new_c[Ctr.TCPRcvQDrop] == 0


@pytest.mark.jit_only  # eight runs of 60,000 packets
def test_seed_000s_64k_gain_after_026dfef287c0_is_6_16s_within_its_band():
    """7.0 and 6.18.17 admit by sk_rmem_alloc <= sk_rcvbuf again (026dfef287c0): seed 000's stream on full
    64 KB pages is not trapped, and the gain of fragments is a number whose band holds 6.16's, the last
    release before 1d2fbaad7cd8; on 6.17.0 the flow is not trapped either: the first flight, forced into
    the empty queue, is answered by a zero-window ACK (e2142825c120) and the sender waits for the read."""
    from rxlab import platform
    from rxlab.cost.whatif import gain_band
    from rxlab.studies.seeds import QUICK_PACKETS, SEED000

    prof = platform("typical_arm64")

    def runs(kernel):
        return [simulate(SimConfig(kernel=kernel, strategy=s, packets=QUICK_PACKETS, **SEED000))
                for s in ("full_page", "pp_frag")]

    def gain(kernel):
        full, frag = (r.to_frame() for r in runs(kernel))
        return [float(v[0]) for v in gain_band(full, frag, prof)]

    base = gain("6.16")[0]
    for kernel in ("7.0", "6.18.17"):
        assert all(r.metrics()["trapped_connections"] == 0 for r in runs(kernel))
        g, low, high = gain(kernel)
        assert low <= base <= high and low <= g <= high, (kernel, g, low, high, base)
    assert runs("6.17")[0].metrics()["trapped_connections"] == 0
