"""Which RX queue a connection's packets arrive on: the Toeplitz hash over the TCP/IPv4 4-tuple,
through the driver's indirection table, as the NIC computes it.

MANA (drivers/net/ethernet/microsoft/mana/mana_en.c): ``netdev_rss_key_fill()`` gives the port a
random 40-byte key (``MANA_HASH_KEY_SIZE``); ``mana_rss_table_init()`` fills the
``MANA_INDIRECT_TABLE_DEF_SIZE`` = 64-entry table with ``ethtool_rxfh_indir_default(i, num_queues)``
= i mod num_queues; the hardware sends a packet to ``indir_table[hash mod table size]``.
"""

import random
from functools import lru_cache

MANA_HASH_KEY_SIZE = 40  # include/net/mana/mana.h
MANA_INDIRECT_TABLE_DEF_SIZE = 64  # include/net/mana/mana.h: the table size unless the vPort reports one
# Microsoft's RSS verification key ("Verifying the RSS Hash Calculation", NDIS documentation)
MS_VERIFICATION_KEY = bytes.fromhex(
    "6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa")
EPHEMERAL_PORTS = (32768, 60999)  # net.ipv4.ip_local_port_range default (include/net/ip.h)
SERVER_PORT = 5201  # iperf3's default port: the tests behind the seed threads are iperf runs


def toeplitz(key, data):
    """The Toeplitz hash of ``data`` (bytes) under ``key``: for each input bit from the most
    significant bit of data[0] on, when it is 1 XOR in the key's leftmost 32 bits, then shift
    the key left by one bit."""
    k = int.from_bytes(key, "big")
    width = 8 * len(key)
    h = 0
    for i, byte in enumerate(data):
        for b in range(8):
            if byte & (0x80 >> b):
                h ^= (k >> (width - 32 - (8 * i + b))) & 0xFFFFFFFF
    return h


def tcp4_input(src_ip, dst_ip, src_port, dst_port):
    """The hash input for TCP/IPv4: source address, destination address, source port, destination
    port, in network byte order (addresses as dotted strings or 4 bytes)."""
    def addr(a):
        return bytes(int(x) for x in a.split(".")) if isinstance(a, str) else bytes(a)
    return addr(src_ip) + addr(dst_ip) + src_port.to_bytes(2, "big") + dst_port.to_bytes(2, "big")


def indirection_table(queues, size=MANA_INDIRECT_TABLE_DEF_SIZE):
    """mana_rss_table_init(): entry i -> queue i mod queues (ethtool_rxfh_indir_default)."""
    return [i % queues for i in range(size)]


@lru_cache(maxsize=64)
def _byte_table(key, i):
    """table[v]: the hash contribution of byte value v at input position i (Toeplitz is linear:
    the hash of an input is the XOR of its bytes' contributions). Cached: a seed's key is the same
    for every run with it, and the 512 hashes took longer than a 10 K-packet run."""
    return tuple(toeplitz(key, bytes(i) + bytes([v])) for v in range(256))


def flow_hashes(connections, seed):
    """The Toeplitz hash of each of ``connections`` TCP flows to one server port, as a list: the
    port's key and each flow's ephemeral source port drawn from ``seed``. A client's flows have
    distinct source ports; past the ephemeral range the next flows come from another client address.
    The NIC reports it with the packet, and the driver sets it as the skb's hash (skb_set_hash)."""
    rng = random.Random(seed)
    key = rng.randbytes(MANA_HASH_KEY_SIZE)
    hi_byte, lo_byte = _byte_table(key, 8), _byte_table(key, 9)  # the source port's two bytes
    lo, hi = EPHEMERAL_PORTS
    out = []
    for client in range(-(-connections // (hi - lo + 1))):
        base = toeplitz(key, tcp4_input((10, 0, 1 + client // 250, 2 + client % 250), (10, 0, 0, 1), 0,
                                        SERVER_PORT))
        for port in rng.sample(range(lo, hi + 1), min(connections - len(out), hi - lo + 1)):
            out.append(base ^ hi_byte[port >> 8] ^ lo_byte[port & 0xFF])
    return out


def flow_queues(connections, queues, seed):
    """The RX queue of each of ``connections`` flows (flow_hashes): ``indir_table[hash mod table size]``."""
    table = indirection_table(queues)
    return [table[h % len(table)] for h in flow_hashes(connections, seed)]
