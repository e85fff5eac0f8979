"""RSS as the NIC computes it (rxlab.kernel.rss): the Toeplitz hash against Microsoft's published
verification vectors, and flows colliding on queues as on real hardware."""

import statistics

import pytest

from rxlab.kernel.rss import MS_VERIFICATION_KEY, flow_queues, indirection_table, tcp4_input, toeplitz

pytestmark = pytest.mark.no_engine  # no engine code here: the compiled pass only (CONTRIBUTING.md)

# "Verifying the RSS Hash Calculation" (NDIS): destination, source, IPv4-only and TCP/IPv4 hashes
VECTORS = [
    ("161.142.100.80", 1766, "66.9.149.187", 2794, 0x323E8FC2, 0x51CCC178),
    ("65.69.140.83", 4739, "199.92.111.2", 14230, 0xD718262A, 0xC626B0EA),
    ("12.22.207.184", 38024, "24.19.198.95", 12898, 0xD2D0A5DE, 0x5C2B394A),
    ("209.142.163.6", 2217, "38.27.205.30", 48228, 0x82989176, 0xAFC7327F),
    ("202.188.127.2", 1303, "153.39.163.191", 44251, 0x5D1809C5, 0x10E828A2),
]


@pytest.mark.parametrize("dst,dport,src,sport,ipv4,tcp4", VECTORS)
def test_toeplitz_verification_vectors(dst, dport, src, sport, ipv4, tcp4):
    assert toeplitz(MS_VERIFICATION_KEY, tcp4_input(src, dst, sport, dport)[:8]) == ipv4
    assert toeplitz(MS_VERIFICATION_KEY, tcp4_input(src, dst, sport, dport)) == tcp4


def test_default_indirection_table():
    assert indirection_table(16) == [i % 16 for i in range(64)]
    assert indirection_table(3)[:7] == [0, 1, 2, 0, 1, 2, 0]


def test_flows_collide_like_balls_in_bins():
    # 8 flows over 16 queues: E[distinct] = 16 (1 - (15/16)^8) = 6.45, not 8
    distinct = [len(set(flow_queues(8, 16, seed))) for seed in range(400)]
    assert statistics.mean(distinct) == pytest.approx(16 * (1 - (15 / 16) ** 8), abs=0.15)
    assert min(distinct) < 8 and max(distinct) == 8


def test_flow_queues_hash_each_flow_with_the_reference_toeplitz(monkeypatch):
    from rxlab.kernel import rss

    seen = []
    monkeypatch.setattr(rss, "indirection_table", lambda q: list(range(64)))  # the hash's low 6 bits
    monkeypatch.setattr(rss.random.Random, "sample", lambda self, pop, k: seen.extend(pop[:k]) or list(pop[:k]))
    got = rss.flow_queues(3, 16, 5)
    key = rss.random.Random(5).randbytes(40)
    assert got == [toeplitz(key, tcp4_input((10, 0, 1, 2), (10, 0, 0, 1), p, 5201)) % 64 for p in seen]


def test_flows_beyond_the_ephemeral_ports_come_from_more_clients():
    q = flow_queues(65536, 64, 3)
    assert len(q) == 65536 and len(set(q)) == 64


def test_flows_are_seeded_and_stay_on_their_queue():
    assert flow_queues(64, 16, 7) == flow_queues(64, 16, 7) != flow_queues(64, 16, 8)
    assert all(0 <= q < 5 for q in flow_queues(100, 5, 1))
