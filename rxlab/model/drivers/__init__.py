"""NIC drivers as plug-ins: each driver's RX buffers asked the same questions.

A :class:`Driver` holds a driver's set-up half: its kernel arithmetic (``geometry``, a pure function
of ``rxlab/kernel/<driver>.py`` adapted to a SimConfig), its release-dependent defaults and limits
(ring entries, queues, the strategy a release runs), and, where it has one, how it swaps buffers on a
reconfiguration (``pre_alloc``). Its evaluated half is the engine's receive queue
(``rxlab/engine/rxq_<driver>.py``, dispatched by ``rxlab/engine/rxq.py``), chosen per queue by the
``Mode`` the geometry asks for. One file per
driver in this package registers it (:func:`register`); ``SimConfig(driver=...)`` looks it up once
(``cfg.nic``). ARCHITECTURE.md, "Add a driver", says which files a new one touches.
"""

from rxlab.model.drivers import bnxt, mana, mlx5
from rxlab.model.drivers.registry import DRIVERS, Driver, lookup, register, unregister

__all__ = ["DRIVERS", "Driver", "bnxt", "lookup", "mana", "mlx5", "register", "unregister"]
