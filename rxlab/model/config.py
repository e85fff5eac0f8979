"""A simulation's configuration: frozen, validated; every error names the field and what is allowed."""

from dataclasses import asdict, dataclass, fields

from rxlab.errors import bad, check_choice, check_int_range, is_bool, is_int, is_real
from rxlab.kernel.bnxt import TPA_TIMER_US
from rxlab.kernel.mana import (
    ADAPTER_MTU_DEFAULT,
    ADAPTER_MTU_RANGE,
    MANA_MAX_NUM_QUEUES,
    MAX_RX_BUFFERS_PER_QUEUE,
    MIN_RX_BUFFERS_PER_QUEUE,
    mana_xdp_mtu_max,
)
from rxlab.kernel.releases import DEFAULT, release, with_fixes
from rxlab.kernel.sizes import ARCHES, PAGE_SIZE_MIN
from rxlab.kernel.tcp import sk_rmem_max, so_rcvbuf
from rxlab.model import defaults, drivers
from rxlab.model.sizing import MAX_CPUS, check_sizes, geometries, reading_cpus
from rxlab.model.strategies import lookup

XDP_VERDICTS = ("pass", "drop", "tx", "redirect")
APP_CPUS = ("remote", "napi")
READERS = ("woken", "periodic")
RELEASE_FIELDS = ("strategy", "ring_size", "queues", "tcp_rmem_default", "tcp_rmem", "skb_defer_max")
"""The fields whose default (None) is the value of SimConfig.kernel's release (and driver)."""


MAX_PACKETS = 10**10

# What each field allows, one table per kind: SimConfig checks against them and `rxlab simulate
# --help` prints them (rxlab/cli.py), so the two cannot disagree. Fields whose range depends on
# another (mtu, queues, reader_cpus) are checked with it and their upper end here is the widest.
INT_RANGES = {
    "napi_budget": (1, 1024), "connections": (1, 65536), "copybreak": (0, 4096),
    "seed": (0, 2**32 - 1),  # np.random.seed: 32 bits
    "packets": (1, MAX_PACKETS), "samples": (1, 100_000), "max_skbs": (64, 1 << 24),
    "online_cpus": (1, 1 << 16), "queues": (1, MANA_MAX_NUM_QUEUES), "tcp_rmem": (4096, 1 << 31),
    "rcvlowat": (1, 1 << 30),  # sk_rcvlowat: at least 1, at most half of tcp_rmem[2] (tcp_set_rcvlowat)
    "tcp_rmem_default": (4096, 1 << 31),
    "so_rcvbuf": (0, (1 << 31) - 1), "rmem_max": (0, (1 << 31) - 1), "skb_defer_max": (0, 1 << 20),
    # MANA's (another driver checks its own): mana_set_ringparam_rx(), the geometry, MAX_CPUS - queues
    "ring_size": (MIN_RX_BUFFERS_PER_QUEUE, MAX_RX_BUFFERS_PER_QUEUE), "adapter_mtu": ADAPTER_MTU_RANGE,
    "reader_cpus": (1, MAX_CPUS - 1),
}
# MANA_XDP_MTU_MAX = PAGE_SIZE less this (MANA_RXBUF_PAD + XDP_PACKET_HEADROOM), for help texts
MANA_XDP_PAD = PAGE_SIZE_MIN - mana_xdp_mtu_max(PAGE_SIZE_MIN)
FRACTIONS = ("ack_fraction", "clone_fraction", "alloc_fail_rate", "dma_map_fail_rate")
# from 1 ns (1 Mbps): below, model time overflows to infinity and a run says nothing
REAL_RANGES = {"app_read_us": (1e-3, 1e6), "xdp_hold_us": (1e-3, 1e6), "tpa_timer_us": (1e-3, 1e6), "link_gbps": (1e-3, 1e4),
               "rtt_us": (1e-3, 1e6), "wake_us": (1e-3, 1e6), "ptr_ring_hold_ns": (1e-3, 1e6)}
BOOLS = ("gro", "gro_hw", "truesize_honest", "defer_free")
# What each field is and its unit, for `rxlab simulate --help` (tests/test_cli.py: one per field)
MEANING = {
    "kernel": ("Linux release whose defaults and behaviours the run follows (rxlab kernels)", ""),
    "driver": ("NIC driver whose RX buffers are simulated (rxlab.model.drivers)", ""),
    "page_size": ("PAGE_SIZE", "bytes"),
    "mtu": ("interface MTU", "bytes"),
    "arch": ("CPU architecture: cache alignment, sizeof(struct sk_buff), page sizes", ""),
    "strategy": ("RX buffer strategy", ""),
    "xdp": ("XDP program attached", ""),
    "ring_size": ("RX ring entries per queue (ethtool -G rx), rounded up to a power of two", "buffers"),
    "queues": ("RX queues, one NAPI CPU each (ethtool -L)", "queues"),
    "online_cpus": ("num_online_cpus() of the receiving VM, which caps the queues", "CPUs"),
    "napi_budget": ("packets one NAPI poll may process", "packets"),
    "connections": ("TCP connections, spread over the queues by RSS", "connections"),
    "app_cpus": ("where the applications read: on other CPUs than the NAPI ones, or on them", ""),
    "ack_fraction": ("fraction of arriving packets that are pure ACKs (66 bytes)", "fraction"),
    "gro": ("NAPI GRO (ethtool -K gro)", ""),
    "gro_hw": (("hardware GRO where the driver has it (ethtool -K rx-gro-hw): bnxt's TPA; off without gro "
                "(bnxt_fix_features)"), ""),
    "clone_fraction": ("fraction of skbs also delivered to a tap (skb_clone)", "fraction"),
    "tcp_rmem": ("tcp_rmem[2], the most autotuning grows sk_rcvbuf to", "bytes"),
    "tcp_rmem_default": ("tcp_rmem[1], the sk_rcvbuf a socket starts with (at most tcp_rmem[2])", "bytes"),
    "fixes": (("commits of data/kernels.toml applied to the release, as a kernel with those backports "
               "(comma-separated, 12+ hex digits each)"), ""),
    "so_rcvbuf": ("setsockopt(SO_RCVBUF) by every application, 0 for not set (then sk_rcvbuf autotunes)",
                  "bytes"),
    "rmem_max": ("net.core.rmem_max, which caps SO_RCVBUF", "bytes"),
    "truesize_honest": ("charge the memory really pinned instead of the driver's truesize", ""),
    "reader": ("how applications read: woken by their data (sk_data_ready), or all every app_read_us", ""),
    "wake_us": ("median scheduling latency of a woken reader (data/read_model.md)", "µs"),
    "rcvlowat": (("SO_RCVLOWAT: unread bytes that wake a reader (at most half of tcp_rmem[2]; the sk_rcvbuf "
                  "growth tcp_set_rcvlowat() gives a large value is not modelled)"), "bytes"),
    "app_read_us": ("with reader periodic: each application drains its socket this often", "µs"),
    "defer_free": ("skb_attempt_defer_free(): frees go back to the NAPI CPU", ""),
    "skb_defer_max": ("net.core.skb_defer_max", "skbs"),
    "reader_cpus": ("CPUs the applications read on (app_cpus remote)", "CPUs"),
    "xdp_hold_us": ("how long XDP_TX and XDP_REDIRECT hold a buffer until completion", "µs"),
    "tpa_timer_us": (("bnxt: how long the device keeps a hardware-GRO (TPA) aggregation open (the firmware's "
                      "max_agg_timer; assumed, rxlab.kernel.bnxt.TPA_TIMER_US)"), "µs"),
    "ptr_ring_hold_ns": (("how long a produce holds a page_pool ptr_ring's producer lock: produces of other "
                          "CPUs within it contend (data/page_pool_cross_cpu.md)"), "ns"),
    "link_gbps": ("link speed", "Gbps"),
    "rtt_us": ("round-trip time", "µs"),
    "copybreak": ("packets up to this size are copied into a new skb (strategy copybreak)", "bytes"),
    "alloc_fail_rate": ("fraction of buffer allocations that fail", "fraction"),
    "dma_map_fail_rate": ("fraction of DMA mappings that fail", "fraction"),
    "adapter_mtu": ("MTU the adapter reports, Ethernet header included", "bytes"),
    "reconfigs": ("MTU changes and XDP attach/detach during the run", ""),
    "seed": ("random seed", ""),
    "packets": ("packets simulated", "packets"),
    "samples": ("time samples recorded over the run", "samples"),
    "max_skbs": ("skbs at once at most (in sockets, held by GRO, on their way up); more drop as skb_table_full",
                 "skbs"),
}


def _check_fraction(name, v):
    if not is_real(v) or not 0.0 <= float(v) <= 1.0:
        raise bad(name, v, "a number in 0..1")
    return float(v)


def _check_positive(name, v, lo, hi):
    if not is_real(v) or not lo <= float(v) <= hi:
        raise bad(name, v, f"a number in {lo:g}..{hi:g}")
    return float(v)


def _check_bool(name, v):
    if not is_bool(v):
        raise bad(name, v, "True or False")
    return bool(v)


@dataclass(frozen=True)
class Reconfig:
    """Change the MTU and/or attach/detach XDP after ``at_packet`` packets (mana_change_mtu,
    mana_xdp_set); ``fail`` injects a failure of the pre-allocation (mana_pre_alloc_rxbufs).

    ``at_packet``: an integer, increasing from one reconfiguration to the next and below
    ``SimConfig.packets``; ``mtu``: None (unchanged) or an integer in 0..65535 (one the netdev
    does not accept, e.g. above MANA_XDP_MTU_MAX with XDP, is refused when it comes and the old
    configuration kept, as the kernel does); ``xdp``: None (unchanged), () (detach) or four
    fractions; ``fail``: True or False. Anything else is refused here, naming the field.
    """

    at_packet: int
    mtu: int | None = None
    xdp: tuple | None = None  # new XDP fractions (pass, drop, tx, redirect); () detaches
    fail: bool = False

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "at_packet", check_int_range("reconfigs.at_packet", self.at_packet, 0, MAX_PACKETS - 1))
        if self.mtu is not None:
            set_(self, "mtu", check_int_range("reconfigs.mtu", self.mtu, 0, 65535))
        if self.xdp is not None:
            set_(self, "xdp", check_xdp(self.xdp, "reconfigs.xdp"))
        set_(self, "fail", _check_bool("reconfigs.fail", self.fail))


@dataclass(frozen=True)
class SimConfig:
    """Everything one simulated run depends on.

    ``kernel`` names a Linux release of ``data/kernels.toml`` (``rxlab kernels`` lists them; default
    ``DEFAULT``, 7.1). ``driver`` names a registered :class:`~rxlab.model.drivers.Driver` (``mana``);
    ``nic`` is that driver, resolved once here. The fields of :data:`RELEASE_FIELDS` default to None,
    "the release's value", and are resolved here, by the driver where they are its own: ``strategy``
    to the driver's layout in that release (MANA: ``full_page`` before the fragment patch, ``pp_frag``
    from it), ``ring_size`` to its default ring, ``queues`` to its default on ``online_cpus`` CPUs
    (MANA: min(``online_cpus``, its queue cap)), ``tcp_rmem`` to its tcp_rmem[2], ``skb_defer_max`` to its
    net.core.skb_defer_max. A value given instead is validated against the release and driver: a
    ring size is what ``ethtool -G`` makes of it (MANA: rounded up to a power of two), or refused
    where the release cannot set one. ``cfg.release`` is the resolved :class:`~rxlab.kernel.releases.Release` (every
    behaviour and its commit); ``cfg.given`` the release-dependent fields given, as given, which
    :meth:`replace` keeps while it re-derives the others (``cfg.replace(kernel="6.1")``).

    ``strategy`` names a registered :class:`~rxlab.model.strategies.Strategy` (``full_page``,
    ``pp_frag``, ``pp_frag_upfront``, ``page_frag_cache``, ``copybreak``, or one added with
    ``rxlab.model.strategies.register``); ``spec`` is that description, resolved once here. Any
    strategy runs on any release (a backported patch, as seed 000's Ubuntu kernel has).

    XDP: ``xdp`` gives the fractions of packets an attached program returns PASS, DROP,
    TX and REDIRECT; empty means no program. An attached program forces one buffer per
    page with 256 bytes of headroom (seed 000).

    Allowed values (anything else raises a ValueError naming the field, the value and this), for
    MANA (another driver states its own limits of ``mtu``, ``ring_size`` and ``queues``):
    ``page_size`` 4096, 16384 or 65536 (as ``arch`` has them); ``arch`` x86_64 or arm64;
    ``mtu`` 68..adapter_mtu - 14 (with XDP at most MANA_XDP_MTU_MAX); ``adapter_mtu``
    82..65535; ``ring_size`` 128..8192, rounded up to a power of two as mana_set_ringparam()
    does (1000 runs, and is stored, as 1024); ``queues`` 1..64; ``napi_budget`` 1..1024;
    ``connections`` 1..65536; ``app_cpus`` remote or napi; ``reader_cpus`` 1..4096 - queues;
    ``tcp_rmem`` and ``tcp_rmem_default`` 4096..2**31; ``fixes`` a tuple of commit ids of
    ``data/kernels.toml`` (12+ hex digits); ``so_rcvbuf`` 0 (not set) or 1..2**31 - 1; ``rmem_max`` None (stored
    as SK_RMEM_MAX, 212992) or 0..2**31 - 1; ``copybreak`` 0..4096; ``skb_defer_max`` 0..2**20; ``max_skbs``
    64..2**24; ``packets`` 1..10**10; ``samples`` 1..100000; ``seed`` 0..2**32 - 1; the
    fractions ``ack_fraction``, ``clone_fraction``, ``alloc_fail_rate``, ``dma_map_fail_rate``
    and each of ``xdp``'s 0..1; ``app_read_us``, ``wake_us``, ``xdp_hold_us``, ``tpa_timer_us``, ``rtt_us``, ``ptr_ring_hold_ns``
    0.001..10**6, ``reader`` woken or periodic; ``rcvlowat`` 1..half of tcp_rmem[2], at most 2**30 (of sk_rcvbuf under
    ``so_rcvbuf``, tcp_set_rcvlowat);
    ``link_gbps`` 0.001..10**4; ``gro``, ``gro_hw``, ``truesize_honest``, ``defer_free`` True or False;
    ``reconfigs`` a tuple of :class:`Reconfig`. Integers may be NumPy integers, numbers
    NumPy floats. Together, the tables the run needs must fit the engine and
    ``rxlab.model.sizing.memory_limit()`` (half the machine's memory, or ``$RXLAB_MAX_MEMORY``):
    a configuration that asks for more is refused naming the fields that ask for it.
    """

    kernel: str = DEFAULT
    driver: str = "mana"  # a registered rxlab.model.drivers.Driver
    fixes: tuple = ()  # commits of data/kernels.toml applied to the release (a kernel with backports)
    page_size: int = 4096
    mtu: int = 1500
    arch: str = "arm64"
    strategy: str | None = None  # None: the release's MANA layout
    xdp: tuple = ()
    ring_size: int | None = None  # None: the release's default ring (512; 1024 from 6.13)
    queues: int | None = None  # None: min(online_cpus, the release's cap: 64; 16 from 7.1)
    # num_online_cpus() of the receiving VM (default: never the limit): it bounds the queues and the reading CPUs
    online_cpus: int = MAX_CPUS
    napi_budget: int = 64
    connections: int = 64
    app_cpus: str = "remote"  # application threads on other CPUs than the NAPI ones, or the same
    ack_fraction: float = 0.0  # fraction of arriving packets that are pure ACKs (66 bytes)
    gro: bool = True  # NAPI GRO (ethtool -K gro): segments of a flow aggregated before TCP
    gro_hw: bool = True  # NETIF_F_GRO_HW, on by default where the driver has it (bnxt: TPA); needs gro
    clone_fraction: float = 0.0  # skbs (GRO aggregates, ACKs) also delivered to a tap (skb_clone)
    tcp_rmem_default: int | None = None  # tcp_rmem[1], the sk_rcvbuf a socket starts with; None: the release's
    tcp_rmem: int | None = None  # tcp_rmem[2], the most autotuning grows sk_rcvbuf to; None: the release's
    # setsockopt(SO_RCVBUF) by every application: sk_rcvbuf fixed at max(2 x min(it, rmem_max), SOCK_MIN_RCVBUF)
    # and no autotuning (SOCK_RCVBUF_LOCK); 0: not set, sk_rcvbuf starts at tcp_rmem[1] and autotunes
    so_rcvbuf: int = 0
    rmem_max: int | None = None  # net.core.rmem_max, which caps SO_RCVBUF; None: SK_RMEM_MAX (212992)
    truesize_honest: bool = False  # charge the memory really pinned instead of the driver's truesize
    # each application thread drains its socket every this many µs: about when GRO delivers 64 KB of a
    # flow at 180 Gbps over 16 connections (47 µs), or a median scheduler wakeup under load (45-48 µs);
    # the argument and its range, ~10-400 µs over 4-128 connections, are in data/read_model.md
    app_read_us: float = 50.0
    # readers woken by their data after a scheduling latency around wake_us (data/read_model.md), or all
    # reading every app_read_us, a what-if
    reader: str = "woken"
    wake_us: float = defaults.WAKE_US
    rcvlowat: int = 1  # SO_RCVLOWAT (sock_init_data: sk_rcvlowat 1)
    defer_free: bool = True  # skb_attempt_defer_free: frees go back to the NAPI CPU
    skb_defer_max: int | None = None  # net.core.skb_defer_max; None: the release's (64; 128 from 6.19)
    # app_cpus='remote': connection c reads on the (c mod reading_cpus)-th CPU after the NAPI ones
    reader_cpus: int = 64
    xdp_hold_us: float = 20.0  # XDP_TX / XDP_REDIRECT hold a buffer until completion
    tpa_timer_us: float = TPA_TIMER_US  # bnxt: a TPA aggregation closes this long after it started, at the latest
    # a produce holds the ptr_ring's producer_lock this long: the hold fitted to bench_page_pool_cross_cpu's
    # published t(n) by simulating that benchmark (rxlab.cost.calibrate.fit_cross_cpu, data/page_pool_cross_cpu.md)
    ptr_ring_hold_ns: float = 26.4
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
    max_skbs: int = 65536  # skbs that exist at once at most; a packet needing one more drops as skb_table_full

    def __post_init__(self):
        """Resolve the release's defaults (:meth:`_resolve`), then validate every field (naming it,
        its value and what is allowed) and store each in one canonical form: NumPy scalars as
        Python ones, numbers of float fields as floats, XDP fractions as floats, reconfigs as a
        tuple, ring_size as the driver rounds it. A configuration accepted here runs: its tables
        fit (:func:`rxlab.model.sizing.check_sizes`)."""
        set_ = object.__setattr__
        if isinstance(self.fixes, list):
            set_(self, "fixes", tuple(self.fixes))
        if not isinstance(self.fixes, tuple) or not all(isinstance(f, str) for f in self.fixes):
            raise bad("fixes", self.fixes, "a tuple of commit ids (strings) of data/kernels.toml")
        rel = with_fixes(release(self.kernel), self.fixes)
        set_(self, "release", rel)  # not fields: not hashed or stored
        set_(self, "nic", drivers.lookup(self.driver))
        set_(self, "given", tuple((f, getattr(self, f)) for f in RELEASE_FIELDS if getattr(self, f) is not None))
        self._resolve(rel)
        set_(self, "spec", lookup(self.strategy))
        check_choice("app_cpus", self.app_cpus, APP_CPUS)
        check_choice("reader", self.reader, READERS)
        for name in ("page_size", "mtu", "adapter_mtu"):  # the geometry says which values are allowed
            if is_int(getattr(self, name)):
                set_(self, name, int(getattr(self, name)))
        for name in ("napi_budget", "connections", "copybreak", "seed", "packets", "samples", "max_skbs", "rcvlowat"):
            set_(self, name, check_int_range(name, getattr(self, name), *INT_RANGES[name]))
        # one per-CPU table row per NAPI CPU and per reader CPU (rxlab.engine.state.make_state)
        hi = MAX_CPUS - self.queues
        if not is_int(self.reader_cpus) or not 1 <= self.reader_cpus <= hi:
            raise bad("reader_cpus", self.reader_cpus, f"an integer in 1..{hi} ({MAX_CPUS} CPUs less the "
                      f"{self.queues} NAPI CPUs of queues={self.queues})")
        set_(self, "reader_cpus", int(self.reader_cpus))
        for name in FRACTIONS:
            set_(self, name, _check_fraction(name, getattr(self, name)))
        for name, (lo, hi) in REAL_RANGES.items():
            set_(self, name, _check_positive(name, getattr(self, name), lo, hi))
        for name in BOOLS:
            set_(self, name, _check_bool(name, getattr(self, name)))
        set_(self, "xdp", check_xdp(self.xdp))
        # the geometry validates page_size, arch, mtu (incl. MANA_XDP_MTU_MAX) and adapter_mtu
        self.geometry()
        # tcp_set_rcvlowat() (net/ipv4/tcp.c) caps SO_RCVLOWAT at half of tcp_rmem[2], or of sk_rcvbuf
        # under SO_RCVBUF: a larger value would not be what the socket runs with
        rcvbuf, locked = self.sk_rcvbuf()
        cap = (rcvbuf if locked else self.tcp_rmem) >> 1
        if self.rcvlowat > cap:
            raise bad("rcvlowat", self.rcvlowat, f"1..{cap}: tcp_set_rcvlowat() caps it at half of "
                      + ("sk_rcvbuf under so_rcvbuf" if locked else "tcp_rmem[2]"))
        if isinstance(self.reconfigs, list):
            set_(self, "reconfigs", tuple(self.reconfigs))
        if not isinstance(self.reconfigs, tuple):
            raise bad("reconfigs", self.reconfigs, "a tuple of rxlab.Reconfig")
        at = -1
        for r in self.reconfigs:
            if not isinstance(r, Reconfig):
                raise bad("reconfigs", r, "a tuple of rxlab.Reconfig")
            if not at < r.at_packet < self.packets:
                raise bad("reconfigs.at_packet", r.at_packet, f"increasing, in 0..{self.packets - 1}")
            at = r.at_packet
        check_sizes(self, geometries(self))

    def _resolve(self, rel):
        """Each field of RELEASE_FIELDS: the release's value, or the one given, checked against it."""
        def put(name, value):
            object.__setattr__(self, name, value)

        nic = self.nic
        put("strategy", nic.default_strategy(rel) if self.strategy is None else self.strategy)
        put("ring_size", nic.ring_size(rel, self.ring_size))
        put("online_cpus", check_int_range("online_cpus", self.online_cpus, *INT_RANGES["online_cpus"]))
        put("queues", nic.queues(rel, self.online_cpus, self.queues))
        if self.tcp_rmem is None:
            put("tcp_rmem", rel.tcp_rmem_max)
        put("tcp_rmem", check_int_range("tcp_rmem", self.tcp_rmem, *INT_RANGES["tcp_rmem"]))
        if self.tcp_rmem_default is None:
            put("tcp_rmem_default", rel.tcp_rmem_default)
        put("tcp_rmem_default", check_int_range("tcp_rmem_default", self.tcp_rmem_default,
                                                *INT_RANGES["tcp_rmem_default"]))
        put("so_rcvbuf", check_int_range("so_rcvbuf", self.so_rcvbuf, *INT_RANGES["so_rcvbuf"]))
        if self.rmem_max is not None:
            put("rmem_max", check_int_range("rmem_max", self.rmem_max, *INT_RANGES["rmem_max"]))
        else:
            put("rmem_max", sk_rmem_max(self.arch) if isinstance(self.arch, str) and self.arch in ARCHES else None)
        if self.skb_defer_max is None:
            put("skb_defer_max", rel.skb_defer_max)
        put("skb_defer_max", check_int_range("skb_defer_max", self.skb_defer_max, *INT_RANGES["skb_defer_max"]))

    def sk_rcvbuf(self):
        """(sk_rcvbuf a socket starts with, whether SO_RCVBUF locks it): tcp_rmem[1] (``tcp_rmem_default``,
        at most tcp_rmem[2]) growing by autotuning, or what setsockopt(SO_RCVBUF, so_rcvbuf) sets
        (net/core/sock.c __sock_set_rcvbuf, :func:`rxlab.kernel.tcp.so_rcvbuf`)."""
        if not self.so_rcvbuf:
            return min(self.tcp_rmem_default, self.tcp_rmem), False
        return so_rcvbuf(self.so_rcvbuf, self.rmem_max, self.arch), True

    def geometry(self, mtu=None, xdp=None, variant=None):
        """The RX buffer geometry of this configuration in its driver and release, or of a
        reconfigured one (``mtu``, ``xdp``), or in another ``variant`` than the strategy's."""
        return self.nic.geometry(self, self.mtu if mtu is None else mtu, bool(self.xdp if xdp is None else xdp),
                                 self.spec.variant if variant is None else variant)

    @property
    def reading_cpus(self):
        """The CPUs the applications read on besides the NAPI ones (:func:`rxlab.model.sizing.reading_cpus`)."""
        return reading_cpus(self)

    def to_dict(self):
        """Every field, resolved (the release's values where none was given), ``kernel`` among them."""
        return asdict(self)

    def replace(self, **changes):
        """A copy with ``changes``; the release-dependent fields not given (nor changed) follow the
        (possibly new) release: ``cfg.replace(kernel="6.1")`` takes 6.1's defaults but keeps what was given."""
        kw = {f: getattr(self, f) for f in FIELDS if f not in RELEASE_FIELDS}
        kw.update(self.given)
        kw.update(changes)
        return SimConfig(**kw)


def check_xdp(xdp, name="xdp"):
    """() for no program, or four fractions (pass, drop, tx, redirect) adding up to 1; returns
    them as a tuple of floats."""
    if not isinstance(xdp, tuple) or len(xdp) not in (0, 4):
        raise bad(name, xdp, "() or four fractions (pass, drop, tx, redirect) adding up to 1")
    if not xdp:
        return ()
    xdp = tuple(_check_fraction(f"{name}.{verdict}", v) for v, verdict in zip(xdp, XDP_VERDICTS))
    if abs(sum(xdp) - 1.0) > 1e-9:
        raise bad(name, xdp, "fractions (pass, drop, tx, redirect) adding up to 1")
    return xdp


def xdp_only(verdict):
    """XDP fractions for a program that always returns ``verdict``."""
    check_choice("verdict", verdict, XDP_VERDICTS)
    return tuple(1.0 if v == verdict else 0.0 for v in XDP_VERDICTS)


FIELDS = tuple(f.name for f in fields(SimConfig))
