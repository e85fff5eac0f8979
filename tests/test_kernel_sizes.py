"""skb-layer sizes and macros, against values worked out by hand from include/linux/skbuff.h."""

import pytest

from rxlab.kernel import sizes

pytestmark = pytest.mark.no_engine  # no engine code here: the compiled pass only (CONTRIBUTING.md)


def test_shared_info_and_pad():
    # 48 bytes of fields + 17 x 16-byte skb_frag_t = 320, already 64-aligned.
    assert sizes.sizeof_skb_shared_info() == 320
    assert sizes.skb_shinfo_aligned() == 320
    # 45 frags (Kconfig maximum): 48 + 720 = 768.
    assert sizes.sizeof_skb_shared_info(45) == 768
    # 18 frags: 336 -> SKB_DATA_ALIGN -> 384.
    assert sizes.skb_shinfo_aligned(18) == 384


@pytest.mark.parametrize("x,expect", [(0, 0), (1, 64), (64, 64), (65, 128), (1834, 1856), (9334, 9344)])
def test_skb_data_align(x, expect):
    assert sizes.skb_data_align(x) == expect


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_truesize(arch):
    # SKB_TRUESIZE(1500) = 1500 + ALIGN(232, 64) + 320.
    assert sizes.skb_truesize(1500, arch) == 1500 + 256 + 320
    # build_skb(frag_size=2048): shinfo lives inside the buffer -> 2048 + 256.
    assert sizes.build_skb_truesize(2048, arch) == 2304
    assert sizes.build_skb_truesize(65536, arch) == 65792


@pytest.mark.parametrize("size,page,order", [
    (1, 4096, 0), (4096, 4096, 0), (4097, 4096, 1), (8192, 4096, 1), (8193, 4096, 2),
    (9344, 4096, 2), (16385, 4096, 3), (9344, 16384, 0), (65536, 65536, 0), (65537, 65536, 1),
])
def test_get_order(size, page, order):
    assert sizes.get_order(size, page) == order


@pytest.mark.parametrize("page_size", [0, 2048, 3000, 6144, 131072, 4096.0, True])
def test_bad_page_size(page_size):
    with pytest.raises(ValueError, match=r"page_size=.* is not allowed: .*4096\.\.65536"):
        sizes.check_page_size(page_size)


def test_page_size_by_arch():
    assert sizes.check_page_size(65536, "arm64") == 65536
    with pytest.raises(ValueError, match=r"page_size=65536 is not allowed: on x86_64: one of \(4096,\)"):
        sizes.check_page_size(65536, "x86_64")


def test_bad_arch_and_frags():
    with pytest.raises(ValueError, match=r"arch='riscv' is not allowed: one of 'x86_64', 'arm64'"):
        sizes.skb_truesize(100, "riscv")
    with pytest.raises(ValueError, match=r"max_skb_frags=16 is not allowed: 17\.\.45"):
        sizes.sizeof_skb_shared_info(16)
    with pytest.raises(ValueError, match=r"frag_size=320 is not allowed"):
        sizes.build_skb_truesize(320)
