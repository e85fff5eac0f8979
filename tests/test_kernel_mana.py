"""mana_get_rxbuf_cfg() before and after the fragment patch, against hand-derived vectors.

Derivation (include/net/mana/mana.h, mana_en.c): MANA_RXBUF_PAD = 320 + 14 = 334;
SKB_DATA_ALIGN rounds to 64; the fragment path needs mtu + 334 <= PAGE_SIZE / 2 and
rounds to MANA_RX_FRAG_ALIGNMENT (64, a no-op after SKB_DATA_ALIGN); frag_count =
PAGE_SIZE // buf; page_pool on arm64 then strides ALIGN(buf, 128).
"""

import pytest

from rxlab.kernel.mana import mana_get_rxbuf_cfg, mana_rx_geometry, mana_rxbuf_pad, mana_xdp_mtu_max

pytestmark = pytest.mark.no_engine  # no engine code here: the compiled pass only (CONTRIBUTING.md)

PAGES = (4096, 16384, 65536)
MTUS = (576, 1500, 1714, 1715, 3000, 4000, 9000)

# post, no XDP: (alloc_size, headroom, frag_count, arm64 frags_per_page, order)
#   576: 910 -> 960;  stride128 1024
#  1500: 1834 -> 1856; stride128 1920
#  1714: 2048 -> 2048 (the last MTU with fragments on 4 KB pages: 2048 <= 4096/2)
#  1715: 2049 -> 2112 (4 KB: 2049 > 2048, jumbo path); stride128 2176
#  3000: 3334 -> 3392; stride128 3456
#  4000: 4334 -> 4352 (4 KB: order 1); stride128 4352
#  9000: 9334 -> 9344 (4 KB: order 2; 16 KB: 9334 > 8192, jumbo, order 0)
POST = {
    (4096, 576): (960, 0, 4, 4, 0), (16384, 576): (960, 0, 17, 16, 0), (65536, 576): (960, 0, 68, 64, 0),
    (4096, 1500): (1856, 0, 2, 2, 0), (16384, 1500): (1856, 0, 8, 8, 0), (65536, 1500): (1856, 0, 35, 34, 0),
    (4096, 1714): (2048, 0, 2, 2, 0), (16384, 1714): (2048, 0, 8, 8, 0), (65536, 1714): (2048, 0, 32, 32, 0),
    (4096, 1715): (2112, 0, 1, 1, 0), (16384, 1715): (2112, 0, 7, 7, 0), (65536, 1715): (2112, 0, 31, 30, 0),
    (4096, 3000): (3392, 0, 1, 1, 0), (16384, 3000): (3392, 0, 4, 4, 0), (65536, 3000): (3392, 0, 19, 18, 0),
    (4096, 4000): (4352, 0, 1, 1, 1), (16384, 4000): (4352, 0, 3, 3, 0), (65536, 4000): (4352, 0, 15, 15, 0),
    (4096, 9000): (9344, 0, 1, 1, 2), (16384, 9000): (9344, 0, 1, 1, 0), (65536, 9000): (9344, 0, 7, 7, 0),
}

# pre (XDP state does not change the layout): (alloc_size, headroom, order)
#   headroom 256 unless mtu > MANA_XDP_MTU_MAX (4 KB: 3506); alloc raised to PAGE_SIZE.
PRE = {(p, m): (p, 256, 0) for p in PAGES for m in MTUS}
PRE[(4096, 4000)] = (4352, 0, 1)  # 4334 -> 4352, > 4096
PRE[(4096, 9000)] = (9344, 0, 2)

# With XDP attached the netdev max_mtu is MANA_XDP_MTU_MAX = PAGE_SIZE - 334 - 256.
XDP_REFUSED = {(4096, 4000), (4096, 9000)}


def test_constants():
    assert mana_rxbuf_pad() == 334
    assert [mana_xdp_mtu_max(p) for p in PAGES] == [3506, 15794, 64946]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("mtu", MTUS)
@pytest.mark.parametrize("xdp", [False, True])
@pytest.mark.parametrize("variant", ["pre", "post"])
def test_vectors(page, mtu, xdp, variant):
    if xdp and (page, mtu) in XDP_REFUSED:
        with pytest.raises(ValueError, match=rf"mtu={mtu} is not allowed: 68\.\.3506 \(MANA_XDP_MTU_MAX"):
            mana_rx_geometry(page, mtu, xdp, variant)
        return
    g = mana_rx_geometry(page, mtu, xdp, variant)
    assert g.datasize == mtu + 14
    if variant == "pre":
        alloc, headroom, order = PRE[(page, mtu)]
        frag_count = fpp = 1
        pool_size = 1024
    elif xdp:
        alloc, headroom, frag_count, fpp, order = page, 256, 1, 1, 0
        pool_size = 1025
    else:
        alloc, headroom, frag_count, fpp, order = POST[(page, mtu)]
        pool_size = 1024 // frag_count + 1
    assert (g.alloc_size, g.headroom, g.frag_count, g.frags_per_page, g.order, g.pool_size) == (
        alloc, headroom, frag_count, fpp, order, pool_size)
    assert g.truesize == alloc + 256  # napi_build_skb(va, alloc_size)
    unit = page << order
    assert g.ring_pages == -(-1024 // fpp)
    assert g.ring_bytes == g.ring_pages * unit
    assert g.nic_bytes == 16 * g.ring_bytes
    assert g.truesize_pinned == -(-unit // fpp) + 256


def test_fragment_boundary_on_4k():
    assert mana_get_rxbuf_cfg(4096, 1714)[3] == 2
    assert mana_get_rxbuf_cfg(4096, 1715)[3] == 1


def test_seed_000_claim_35_per_page():
    # "We are now able to fit 35 rx buffers in a single 64kb page for MTU size of 1500,
    # instead of 1 rx buffer per page previously."
    assert mana_get_rxbuf_cfg(65536, 1500, variant="post")[3] == 35
    assert mana_get_rxbuf_cfg(65536, 1500, variant="pre")[3] == 1


def test_x86_64_carves_what_the_driver_counts():
    g = mana_rx_geometry(4096, 576, arch="x86_64")
    assert (g.frag_count, g.frags_per_page) == (4, 4)


def test_truesize_underreported_on_fragments():
    # Seed 001: the driver reports alloc_size-based truesize while each buffer pins half a 4 KB page.
    g = mana_rx_geometry(4096, 1500)
    assert (g.truesize, g.truesize_pinned) == (2112, 2304)


def test_the_v3_forced_full_page_and_its_fix():
    # Seed 001's v3 took a page per buffer and kept alloc_size SKB_DATA_ALIGN(1500 + 334) = 1856, so
    # napi_build_skb() charged 2112 B for 4096 + 256 really pinned; f73896b4197e (7.0) charges the page
    v3 = mana_rx_geometry(4096, 1500, variant="forced")
    assert (v3.alloc_size, v3.frag_count, v3.frags_per_page, v3.order) == (1856, 1, 1, 0)
    assert (v3.truesize, v3.truesize_pinned) == (2112, 4352)
    fixed = mana_rx_geometry(4096, 1500, variant="forced", truesize_fix=True)
    assert (fixed.alloc_size, fixed.truesize, fixed.truesize_pinned) == (4096, 4352, 4352)
    assert fixed.ring_pages == v3.ring_pages == 1024  # a page per buffer either way


def test_ring_and_queue_scaling():
    g = mana_rx_geometry(65536, 1500, variant="pre", ring_size=4096, queues=8)
    assert g.ring_bytes == 4096 * 65536 == 256 * 2**20
    assert g.nic_bytes == 8 * g.ring_bytes
    g = mana_rx_geometry(65536, 1500, ring_size=128)
    assert g.pool_size == 128 // 35 + 1 == 4
    assert g.ring_pages == 4  # ceil(128 / 34)


@pytest.mark.parametrize("kw,msg", [
    ({"page_size": 8000}, r"page_size=8000 is not allowed: a power of two in 4096\.\.65536"),
    ({"page_size": 131072}, r"page_size=131072 is not allowed: a power of two in 4096\.\.65536"),
    ({"mtu": 67}, r"mtu=67 is not allowed: 68\.\.9000 \(adapter_mtu 9014 - ETH_HLEN\)"),
    ({"mtu": 9001}, r"mtu=9001 is not allowed: 68\.\.9000"),
    ({"mtu": 1500, "adapter_mtu": 1514}, None),
    ({"mtu": 1501, "adapter_mtu": 1514}, r"mtu=1501 is not allowed: 68\.\.1500"),
    ({"adapter_mtu": 70}, r"adapter_mtu=70 is not allowed: 82\.\.65535"),
    ({"ring_size": 127}, r"ring_size=127 is not allowed: 128\.\.8192"),
    ({"ring_size": 8193}, r"ring_size=8193 is not allowed: 128\.\.8192"),
    ({"queues": 0}, r"queues=0 is not allowed: 1\.\.64"),
    ({"arch": "mips"}, r"arch='mips' is not allowed: one of 'x86_64', 'arm64'"),
    ({"arch": "x86_64", "page_size": 16384}, r"page_size=16384 is not allowed: on x86_64"),
    ({"variant": "mid"}, r"variant='mid' is not allowed: one of 'pre', 'post', 'forced'"),
    ({"xdp": "yes"}, r"xdp='yes' is not allowed: True or False"),
])
def test_validation(kw, msg):
    args = {"page_size": 4096, "mtu": 1500, **kw}
    if msg is None:
        mana_rx_geometry(**args)
        return
    with pytest.raises(ValueError, match=msg):
        mana_rx_geometry(**args)
