"""The Driver plug-in and the registry that names drivers (the package's docstring says more)."""

from collections.abc import Callable
from dataclasses import dataclass

from rxlab.errors import bad, check_choice


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

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise bad("driver.name", self.name, "an identifier")
        for k in ("geometry", "default_strategy", "ring_size", "queues"):
            if not callable(getattr(self, k)):
                raise bad(f"{self.name}.{k}", getattr(self, k), "a function")
        if self.pre_alloc is not None and not callable(self.pre_alloc):
            raise bad(f"{self.name}.pre_alloc", self.pre_alloc, "a function or None")


DRIVERS = {}


def register(driver):
    """Add ``driver`` under its name (a name is registered once); returns it."""
    if not isinstance(driver, Driver):
        raise bad("driver", driver, "an rxlab.model.drivers.Driver")
    if driver.name in DRIVERS:
        raise bad("driver.name", driver.name, "a name not registered yet: " + ", ".join(DRIVERS))
    DRIVERS[driver.name] = driver
    return driver


def unregister(name):
    """Remove a registered driver (a test's or a notebook's own)."""
    check_choice("driver", name, tuple(DRIVERS))
    del DRIVERS[name]


def lookup(name):
    """The registered driver called ``name``."""
    check_choice("driver", name, tuple(DRIVERS))
    return DRIVERS[name]

