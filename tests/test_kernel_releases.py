"""Kernel releases as a parameter (issue 12): the table of data/kernels.toml, every behaviour of
every release with the commit behind it, and the kernel arithmetic that differs by release (the
window of include/net/tcp.h tcp_win_from_space(), page_pool's alloc cache, MANA's truesize, queues
and ring sizes)."""

import itertools
import re

import pytest

from rxlab.engine.layout import WinMode
from rxlab.engine.tcp import tcp_win_from_space as engine_win
from rxlab.kernel import releases
from rxlab.kernel.mana import mana_default_num_queues, mana_rx_geometry, mana_set_ringparam_rx
from rxlab.kernel.pagepool import pp_alloc_cache
from rxlab.kernel.sizes import skb_truesize
from rxlab.kernel.tcp import TCP_DEFAULT_SCALING_RATIO, tcp_scaling_ratio_init_6_6, tcp_win_from_space

NEWEST = releases.NEWEST
HEX = re.compile(r"[0-9a-f]{12,40}")


def first(pred):
    """The first release (oldest first) for which ``pred`` holds."""
    return next(r.name for r in releases.releases() if pred(r))


# -- the table ------------------------------------------------------------------------------------

def test_the_table_has_the_releases_the_issue_asks_for():
    names = releases.names()
    assert names[0] == "6.1" and "6.6" in names and NEWEST == names[-1]
    assert first(lambda r: r.scaling_ratio_init == 128) == "6.10"  # 697a6c8cec03
    assert first(lambda r: r.tcp_rmem_max == 32 << 20) == "6.16"  # 572be9bf9d0d
    assert first(lambda r: r.admission == "rmem_plus_truesize") == "6.17"  # 1d2fbaad7cd8
    newest = releases.newest()
    assert (newest.mana_truesize, newest.mana_queue_cap, newest.mana_rx_layout) == ("backing_alloc", 16,
                                                                                  "page_pool_frag")
    assert list(names) == sorted(names, key=lambda n: tuple(map(int, n.split("."))))


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
    rows = releases.releases()
    for before, after in itertools.pairwise(rows):
        changed = {c.behaviour for c in after.changes}
        for b in releases.BEHAVIOURS:
            if b not in changed:
                assert getattr(after, b) == getattr(before, b), (after.name, b)


def test_the_table_states_what_the_engine_does_not_model():
    todo = releases.not_modelled()
    assert {"admission", "rcvbuf_autotune", "rcvbuf_low_rtt_us", "ooo_updates_ratio", "tcp_rmem_default",
            "mana_rx_layout"} == set(todo)
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
    # (after-the-seeds section 4: 3648 -> 4352, 4608 -> 8448, 9600 -> 16640)
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
