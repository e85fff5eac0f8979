"""Drivers as plug-ins (rxlab.model.drivers): MANA behind the seam, and ARCHITECTURE.md's "Add a
driver" recipe followed by a test that registers a toy driver and simulates it."""

import pytest

from rxlab import Reconfig, SimConfig, simulate
from rxlab.counters import Ctr
from rxlab.engine.layout import QS
from rxlab.errors import bad
from rxlab.kernel.geometry import RxGeometry
from rxlab.kernel.pagepool import page_pool_alloc
from rxlab.kernel.sizes import ETH_HLEN, build_skb_truesize, skb_data_align, skb_shinfo_aligned
from rxlab.model.drivers import DRIVERS, Driver, lookup, register, unregister

TOY_BUF = 2048  # the toy NIC's fixed buffer, as drivers with a fixed rx_buf_size post


def toy_geometry(cfg, mtu, xdp, variant):
    """A NIC posting fixed 2 KB buffers: page_pool fragments ("post") or a page each ("pre"); it
    refuses an MTU whose frame and shared info do not fit a buffer, and XDP."""
    if xdp:
        raise bad("xdp", True, "no program (the toy NIC has no XDP support)")
    hi = TOY_BUF - skb_data_align(skb_shinfo_aligned()) - ETH_HLEN
    if not 68 <= mtu <= hi:
        raise bad("mtu", mtu, f"68..{hi} (a frame and its shared info in one {TOY_BUF}-byte buffer)")
    frag_count = cfg.page_size // TOY_BUF if variant == "post" else 1
    alloc = TOY_BUF if frag_count > 1 else cfg.page_size
    per_page = page_pool_alloc(alloc, cfg.page_size, 0, cfg.arch).per_page if frag_count > 1 else 1
    ring_pages = -(-cfg.ring_size // per_page)
    truesize = build_skb_truesize(alloc, cfg.arch)
    return RxGeometry(variant=variant, arch=cfg.arch, page_size=cfg.page_size, mtu=mtu, xdp=False,
                      ring_size=cfg.ring_size, queues=cfg.queues, datasize=mtu + ETH_HLEN, alloc_size=alloc,
                      headroom=0, frag_count=frag_count, frags_per_page=per_page, order=0,
                      pool_size=cfg.ring_size // frag_count + 1, truesize=truesize,
                      truesize_pinned=-(-cfg.page_size // per_page) + truesize - alloc, ring_pages=ring_pages,
                      ring_bytes=ring_pages * cfg.page_size, nic_bytes=ring_pages * cfg.page_size * cfg.queues)


def toy_ring(rel, asked):
    if asked is None:
        return 256
    if asked not in (256, 512):
        raise bad("ring_size", asked, "256 or 512 (the toy NIC's rings)")
    return asked


def toy_queues(rel, online_cpus, asked):
    if asked is None:
        return min(online_cpus, 4)
    if not 1 <= asked <= min(online_cpus, 8):
        raise bad("queues", asked, f"1..{min(online_cpus, 8)}")
    return asked


@pytest.fixture
def toy():
    d = register(Driver(name="toy", summary="fixed 2 KB buffers", source="tests/test_drivers.py",
                        geometry=toy_geometry, default_strategy=lambda rel: "pp_frag", ring_size=toy_ring,
                        queues=toy_queues))
    yield d
    unregister(d.name)


def test_a_toy_driver_registered_in_one_place_simulates(toy):
    cfg = SimConfig(driver="toy", page_size=16384, packets=3000, connections=8)
    assert cfg.nic is toy and (cfg.strategy, cfg.ring_size, cfg.queues) == ("pp_frag", 256, 4)
    g = cfg.geometry()
    assert (g.alloc_size, g.frag_count, g.frags_per_page) == (2048, 8, 8)
    r = simulate(cfg)  # invariants checked, torn down, nothing leaked
    assert r.metrics()["packets"] == 3000 and r.counter("pp_frag_alloc") > 0
    assert r.to_frame()["driver"].iloc[0] == "toy"
    full = simulate(cfg.replace(strategy="full_page"))
    assert full.geometry.frag_count == 1 and full.counter("pp_frag_alloc") == 0


def test_a_driver_without_pre_allocation_refills_its_new_queues(toy):
    """No pre_alloc: the old queues go, then the new ones are filled (as a driver that closes and
    reopens its rings on an MTU change); a refused MTU keeps the old layout."""
    r = simulate(SimConfig(driver="toy", packets=3000, connections=8, reconfigs=(
        Reconfig(at_packet=1000, mtu=1000), Reconfig(at_packet=2000, mtu=9000))))
    assert [e["ok"] for e in r.events] == [True, False] and "68.." in r.events[1]["error"]
    assert r.geometry.mtu == 1000 and r.metrics()["packets"] == 3000


def test_a_toy_driver_states_its_own_limits(toy):
    with pytest.raises(ValueError, match=r"ring_size=300 is not allowed: 256 or 512"):
        SimConfig(driver="toy", ring_size=300)
    with pytest.raises(ValueError, match=r"queues=9 is not allowed: 1\.\.8"):
        SimConfig(driver="toy", queues=9)
    with pytest.raises(ValueError, match=r"mtu=9000 is not allowed: 68\.\."):
        SimConfig(driver="toy", mtu=9000)


def test_mana_is_the_default_and_unknown_drivers_are_refused():
    assert list(DRIVERS) == ["bnxt", "mana", "mlx5", "mlx5_cyclic"] and SimConfig().nic is lookup("mana")
    with pytest.raises(ValueError, match="driver='e1000' is not allowed: one of 'bnxt', 'mana', 'mlx5', 'mlx5_cyclic'"):
        SimConfig(driver="e1000")
    with pytest.raises(ValueError, match="driver.name='mana' is not allowed: a name not registered yet"):
        register(Driver(name="mana", summary="", source="", geometry=toy_geometry, default_strategy=str,
                        ring_size=toy_ring, queues=toy_queues))


def test_mlx5s_striding_rq_simulates_and_refuses_only_what_the_engine_leaves_out():
    """mlx5: its default, the striding RQ (rxlab.kernel.mlx5), resolves through SimConfig with the
    driver's own defaults and is the engine's (Mode.mpw); a ring of more WQEs than mlx5e_post_rx_mpwqes()
    counts in its u8 is refused with the reason. mlx5_cyclic, the legacy RQ, is the engine's (Mode.cyc)."""
    cfg = SimConfig(driver="mlx5", page_size=65536, mtu=1500)
    g = cfg.geometry()
    assert g.variant == "striding" and g.mtu == 1500 and g.frags_per_page > 1 and cfg.nic.engine_refuses(g) == ""
    assert simulate(cfg.replace(packets=100, queues=1, connections=2)).counters[Ctr.skb_build] > 0
    # params.c mlx5e_mpwqe_get_log_rq_size(): MTU 9000 on 4 KB pages, 8192 frames: 2^(13 - 4) = 512 WQEs
    big = SimConfig(driver="mlx5", mtu=9000, ring_size=8192, queues=1)
    assert big.geometry().wqe_count == 512
    with pytest.raises(ValueError, match=r"^driver='mlx5' is not allowed: a layout whose queue the engine "
                                         r"simulates: mlx5's striding RQ of 512 WQEs .*rxlab geometry --driver mlx5"):
        simulate(big.replace(packets=100))
    legacy = cfg.replace(driver="mlx5_cyclic")
    assert legacy.geometry().variant == "cyclic" and legacy.nic.engine_refuses(legacy.geometry()) == ""
    for driver in ("bnxt", "mlx5", "mlx5_cyclic"):
        with pytest.raises(ValueError, match=r"^strategy='full_page' is not allowed: a strategy of the driver's own"):
            SimConfig(driver=driver, strategy="full_page")


def test_bnxt_simulates_normal_and_page_mode_and_refuses_jumbo_page_mode_with_the_reason():
    """bnxt's normal-mode queue is the engine's (Mode.agg), and so is page mode (XDP attached, at the
    start or by a reconfiguration: Mode.page); page mode with the aggregation ring (a multi-buffer
    program above BNXT_MAX_PAGE_MODE_MTU, which SimConfig never asks for) is refused, naming it."""
    from rxlab.kernel.bnxt import bnxt_rx_geometry

    cfg = SimConfig(driver="bnxt", packets=200, queues=1, connections=2, ring_size=64, max_skbs=512)
    assert not cfg.nic.engine and cfg.nic.engine_refuses(cfg.geometry()) == ""
    assert simulate(cfg).counters.sum() > 0
    xdp = cfg.replace(xdp=(1.0, 0.0, 0.0, 0.0))
    assert xdp.nic.engine_refuses(xdp.geometry()) == ""
    assert simulate(xdp).qstats[0, QS.xdp_pass] == 200
    r = simulate(cfg.replace(reconfigs=(Reconfig(at_packet=100, xdp=(1.0, 0.0, 0.0, 0.0)),)))
    assert r.events[0]["ok"] and r.qstats[0, QS.xdp_pass] == 100
    jumbo = bnxt_rx_geometry(4096, 9000, xdp=True, xdp_frags=True)
    assert jumbo.agg_ring_size and cfg.nic.engine_refuses(jumbo).startswith("bnxt's jumbo page mode")


@pytest.mark.parametrize("driver, kernel_geometry", [("bnxt", "bnxt_rx_geometry"), ("mlx5", "mlx5_rx_geometry")])
def test_rxlab_geometry_gives_each_drivers_kernel_arithmetic_or_its_refusal(driver, kernel_geometry, capsys):
    """``rxlab geometry --driver`` at 4/16/64 KB pages, MTU 1500 and 9000, XDP on and off: the kernel
    module's record (whose values tests/test_kernel_<driver>.py works by hand), or its one-line refusal."""
    import importlib
    import json

    from rxlab.cli import main

    fn = getattr(importlib.import_module(f"rxlab.kernel.{driver}"), kernel_geometry)
    for page in (4096, 16384, 65536):
        for mtu in (1500, 9000):
            for xdp in (False, True):
                try:
                    want = json.loads(json.dumps(fn(page, mtu, xdp, "arm64", queues=16).to_dict()))
                except ValueError as e:
                    want = str(e)
                argv = ["geometry", "--driver", driver, "--page-size", str(page), "--mtu", str(mtu), "--json"]
                code = main(argv + (["--xdp"] if xdp else []))
                out = capsys.readouterr()
                if isinstance(want, str):
                    assert code == 2 and out.err.strip() == f"rxlab geometry: error: {want}"
                else:
                    assert code == 0 and json.loads(out.out) == want
