"""page_pool_alloc() choice and fragment carving (include/net/page_pool/helpers.h, net/core/page_pool.c)."""

import pytest

from rxlab.kernel.pagepool import buffers_per_page, dma_get_cache_alignment, page_pool_alloc

pytestmark = pytest.mark.no_engine  # no engine code here: the compiled pass only (CONTRIBUTING.md)


def test_dma_alignment():
    assert dma_get_cache_alignment("arm64") == 128  # ARCH_DMA_MINALIGN
    assert dma_get_cache_alignment("x86_64") == 1


def test_full_page_when_more_than_half():
    # (size << 1) > max_size -> whole page, *size = max_size.
    a = page_pool_alloc(2049, 4096, arch="x86_64")
    assert (a.kind, a.size, a.per_page, a.last_size) == ("page", 4096, 1, 4096)
    # exactly half still takes the fragment path
    b = page_pool_alloc(2048, 4096, arch="x86_64")
    assert (b.kind, b.per_page, b.last_size) == ("frag", 2, 2048)
    # order 1: max_size 8192
    assert page_pool_alloc(4096, 4096, order=1, arch="x86_64").kind == "frag"


def test_arm64_alignment_changes_carving():
    # 1856 -> ALIGN(1856, 128) = 1920; 65536 // 1920 = 34 (x86_64 would give 35).
    a = page_pool_alloc(1856, 65536, arch="arm64")
    assert (a.stride, a.per_page) == (1920, 34)
    # last slice at 33 * 1920 = 63360 is enlarged to the page end: 65536 - 63360.
    assert a.last_size == 2176
    assert buffers_per_page(1856, 65536) == 35
    assert buffers_per_page(1856, 65536, alignment=128) == 34


def test_last_fragment_not_enlarged_when_another_fits_unaligned():
    # x86_64, 1000-byte slices of 4096: offsets 0,1000,2000,3000; after the 4th,
    # frag_offset 4000 + 1000 > 4096 -> the 4th is enlarged to 1096.
    a = page_pool_alloc(1000, 4096, arch="x86_64")
    assert (a.per_page, a.last_size) == (4, 1096)
    # 1024-byte slices: 4 fit exactly; 4096 + 1024 > 4096 -> enlarged to 1024 (no change).
    assert page_pool_alloc(1024, 4096, arch="x86_64").last_size == 1024


@pytest.mark.parametrize("kw,field", [
    ({"size": 0}, "size"), ({"size": 70000}, "size"), ({"order": 11}, "order"), ({"page_size": 5000}, "page_size"),
])
def test_bad_input(kw, field):
    args = {"size": 1500, "page_size": 4096, **kw}
    with pytest.raises(ValueError, match=rf"^{field}=.* is not allowed: "):
        page_pool_alloc(args["size"], args["page_size"], order=kw.get("order", 0))


def test_buffers_per_page_bad_alignment():
    with pytest.raises(ValueError, match=r"alignment=3 is not allowed"):
        buffers_per_page(1500, 4096, alignment=3)
