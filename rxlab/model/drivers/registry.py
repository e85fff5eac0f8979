"""The Driver plug-in and the registry that names drivers (the package's docstring says more)."""

from collections.abc import Callable
from dataclasses import dataclass

from rxlab.errors import bad, check_int_range
from rxlab.model.registry import Registry


@dataclass(frozen=True)
class Driver:
    """One driver's RX buffers, set up.

    ``geometry(cfg, mtu, xdp, variant)``: the :class:`~rxlab.kernel.geometry.RxGeometry` of one queue
    of ``cfg`` at ``mtu`` with (``xdp`` True) or without an XDP program, in the layout ``variant``
    (a strategy's: "pre", a page per buffer; "post", the driver's fragments); a configuration the
    driver refuses raises a ValueError with the kernel's reason.
    ``default_strategy(release)``: the strategy that simulates the driver's layout in that release.
    ``ring_size(release, asked)``: the RX ring entries (``asked`` None: the release's default), as
    ``ethtool -G`` would set them, or a ValueError naming ``ring_size``.
    ``queues(release, online_cpus, asked)``: the RX queues (``asked`` None: the driver's default on a
    machine with ``online_cpus``), or a ValueError naming ``queues``.
    ``pre_alloc(st, cfg, geometry, fail)``: the buffers of a new layout taken before the old queues
    go (engine buffer ids, ``queues x ring_size``), or None if that failed and the old layout stays;
    None for a driver that does not pre-allocate (the new queues are filled after the old go).
    ``source``: the kernel files the driver model follows.
    ``engine``: empty when the engine simulates the driver's receive queue; otherwise why not yet
    (its geometry is computed, ``simulate`` refuses it with this reason).
    ``engine_layout(geometry)``: for a driver the engine simulates in some layouts only, why not in
    this one ("" when it does); None: in every layout.
    """

    name: str
    summary: str
    source: str
    geometry: Callable
    default_strategy: Callable
    ring_size: Callable
    queues: Callable
    pre_alloc: Callable | None = None
    engine: str = ""
    engine_layout: Callable | None = None

    def engine_refuses(self, g):
        """Why the engine cannot simulate this driver's queue in geometry ``g``, or ""."""
        return self.engine or (self.engine_layout(g) if self.engine_layout is not None else "")

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise bad("driver.name", self.name, "an identifier")
        for k in ("geometry", "default_strategy", "ring_size", "queues"):
            if not callable(getattr(self, k)):
                raise bad(f"{self.name}.{k}", getattr(self, k), "a function")
        if self.pre_alloc is not None and not callable(self.pre_alloc):
            raise bad(f"{self.name}.pre_alloc", self.pre_alloc, "a function or None")


DRIVERS = Registry("driver", Driver)
register, unregister, lookup = DRIVERS.register, DRIVERS.unregister, DRIVERS.lookup


def queues_up_to(default, cap):
    """``Driver.queues`` for a driver whose queue default and cap do not change with the release:
    ``default`` (at most the online CPUs), or what ``ethtool -L`` accepts, 1..min(online CPUs, ``cap``)."""
    def queues(rel, online_cpus, asked):
        if asked is None:
            return min(online_cpus, default)
        return check_int_range("queues", asked, 1, min(online_cpus, cap))

    return queues
