"""A simulation's configuration: frozen, validated; every error names the field and what is allowed."""

from dataclasses import asdict, dataclass, fields, replace

from rxlab.errors import bad, check_choice, check_int_range
from rxlab.kernel.mana import ADAPTER_MTU_DEFAULT, MANA_MAX_NUM_QUEUES, mana_ring_size
from rxlab.model import defaults
from rxlab.model.strategies import lookup

XDP_VERDICTS = ("pass", "drop", "tx", "redirect")
APP_CPUS = ("remote", "napi")


def _check_fraction(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
        raise bad(name, v, "a number in 0..1")
    return float(v)


def _check_positive(name, v, hi):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= hi:
        raise bad(name, v, f"a number in (0, {hi}]")
    return float(v)


@dataclass(frozen=True)
class Reconfig:
    """Change the MTU and/or attach/detach XDP after ``at_packet`` packets (mana_change_mtu,
    mana_xdp_set); ``fail`` injects a failure of the pre-allocation (mana_pre_alloc_rxbufs)."""

    at_packet: int
    mtu: int | None = None
    xdp: tuple | None = None  # new XDP fractions (pass, drop, tx, redirect); () detaches
    fail: bool = False


@dataclass(frozen=True)
class SimConfig:
    """Everything one simulated run depends on.

    ``strategy`` names a registered :class:`~rxlab.model.strategies.Strategy` (``full_page``,
    ``pp_frag``, ``pp_frag_upfront``, ``page_frag_cache``, ``copybreak``, or one added with
    ``rxlab.model.strategies.register``); ``spec`` is that description, resolved once here.

    XDP: ``xdp`` gives the fractions of packets an attached program returns PASS, DROP,
    TX and REDIRECT; empty means no program. An attached program forces one buffer per
    page with 256 bytes of headroom (seed 000).
    """

    page_size: int = 4096
    mtu: int = 1500
    arch: str = "arm64"
    strategy: str = "pp_frag"
    xdp: tuple = ()
    ring_size: int = 1024
    queues: int = 4
    napi_budget: int = 64
    connections: int = 64
    app_cpus: str = "remote"  # application threads on other CPUs than the NAPI ones, or the same
    ack_fraction: float = 0.0  # fraction of arriving packets that are pure ACKs (66 bytes)
    gro: bool = True  # coalesce into the receive queue's tail skb (tcp_try_coalesce)
    clone_fraction: float = 0.0  # packets also delivered to a tap (skb_clone)
    tcp_rmem: int = 6291456  # sk_rcvbuf per connection (tcp_rmem max)
    truesize_honest: bool = False  # charge the memory really pinned instead of the driver's truesize
    app_read_us: float = 50.0  # each application thread drains its socket every this many µs
    defer_free: bool = True  # skb_attempt_defer_free: frees go back to the NAPI CPU
    skb_defer_max: int = 128  # net.core.skb_defer_max (net/core/hotdata.c; 64 before Linux 6.19)
    reader_cpus: int = 64  # app_cpus='remote': connection c reads on the (c mod reader_cpus)-th other CPU
    xdp_hold_us: float = 20.0  # XDP_TX / XDP_REDIRECT hold a buffer until completion
    link_gbps: float = 200.0
    rtt_us: float = 50.0
    copybreak: int = 256
    alloc_fail_rate: float = 0.0
    dma_map_fail_rate: float = 0.0
    adapter_mtu: int = ADAPTER_MTU_DEFAULT
    reconfigs: tuple = ()
    seed: int = 0
    packets: int = defaults.RUN
    samples: int = 200
    max_skbs: int = 65536  # skbs in flight at most (queued in sockets); more drop as skb_table_full

    def __post_init__(self):
        object.__setattr__(self, "spec", lookup(self.strategy))  # not a field: not hashed or stored
        check_choice("app_cpus", self.app_cpus, APP_CPUS)
        check_int_range("queues", self.queues, 1, MANA_MAX_NUM_QUEUES)
        # mana_set_ringparam(): 128..8192, rounded up to a power of two (1000 runs as 1024)
        object.__setattr__(self, "ring_size", mana_ring_size(self.ring_size))
        check_int_range("napi_budget", self.napi_budget, 1, 1024)
        check_int_range("connections", self.connections, 1, 65536)
        check_int_range("tcp_rmem", self.tcp_rmem, 4096, 1 << 31)
        check_int_range("copybreak", self.copybreak, 0, 4096)
        check_int_range("seed", self.seed, 0, 2**32 - 1)  # np.random.seed: 32 bits
        check_int_range("packets", self.packets, 1, 10**10)
        check_int_range("samples", self.samples, 1, 100_000)
        check_int_range("max_skbs", self.max_skbs, 64, 1 << 24)
        check_int_range("skb_defer_max", self.skb_defer_max, 0, 1 << 20)
        check_int_range("reader_cpus", self.reader_cpus, 1, 4096)
        for name in ("ack_fraction", "clone_fraction", "alloc_fail_rate", "dma_map_fail_rate"):
            _check_fraction(name, getattr(self, name))
        for name, hi in (("app_read_us", 1e6), ("xdp_hold_us", 1e6), ("link_gbps", 1e4), ("rtt_us", 1e6)):
            _check_positive(name, getattr(self, name), hi)
        for name in ("gro", "truesize_honest", "defer_free"):
            if not isinstance(getattr(self, name), bool):
                raise bad(name, getattr(self, name), "True or False")
        check_xdp(self.xdp)
        # the geometry validates page_size, arch, mtu (incl. MANA_XDP_MTU_MAX) and ring size
        self.geometry()
        at = -1
        for r in self.reconfigs:
            if not isinstance(r, Reconfig):
                raise bad("reconfigs", r, "a tuple of rxlab.Reconfig")
            if not at < r.at_packet < self.packets:
                raise bad("reconfigs.at_packet", r.at_packet, f"increasing, in 0..{self.packets - 1}")
            at = r.at_packet
            if r.xdp is not None:
                check_xdp(r.xdp, "reconfigs.xdp")

    def geometry(self, mtu=None, xdp=None):
        """The RX buffer geometry of this configuration (or of a reconfigured one)."""
        return self.spec.geometry(self.page_size, self.mtu if mtu is None else mtu,
                                  bool(self.xdp if xdp is None else xdp), self.spec.variant, self.arch,
                                  self.ring_size, self.queues, self.adapter_mtu)

    def to_dict(self):
        return asdict(self)

    def replace(self, **changes):
        return replace(self, **changes)


def check_xdp(xdp, name="xdp"):
    """() for no program, or four fractions (pass, drop, tx, redirect) adding up to 1."""
    if xdp == ():
        return xdp
    if not isinstance(xdp, tuple) or len(xdp) != 4:
        raise bad(name, xdp, "() or four fractions (pass, drop, tx, redirect) adding up to 1")
    for v, verdict in zip(xdp, XDP_VERDICTS):
        _check_fraction(f"{name}.{verdict}", v)
    if abs(sum(xdp) - 1.0) > 1e-9:
        raise bad(name, xdp, "fractions (pass, drop, tx, redirect) adding up to 1")
    return xdp


def xdp_only(verdict):
    """XDP fractions for a program that always returns ``verdict``."""
    check_choice("verdict", verdict, XDP_VERDICTS)
    return tuple(1.0 if v == verdict else 0.0 for v in XDP_VERDICTS)


FIELDS = tuple(f.name for f in fields(SimConfig))
