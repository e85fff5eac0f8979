"""Sweep grids: a dict of value lists (their cartesian product) or an explicit list of
configurations, expanded into validated, canonical SimConfigs, one per (configuration, seed).

A value that no configuration of the grid accepts (an unknown strategy, a page size the kernel
does not have, a string where a number belongs) raises an error naming the field. A combination
the kernel refuses while each of its values is fine elsewhere (XDP with an MTU above
MANA_XDP_MTU_MAX) is not run and is listed, with SimConfig's error, among the invalid ones.
An empty grid ({} or []) is an error, not one default run. :func:`count_runs` counts a grid's
runs without expanding it, so that a huge grid is refused before it is materialised.
"""

import itertools
import math
import reprlib
from dataclasses import fields
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

from rxlab.errors import bad, check_int_range, is_int
from rxlab.model import defaults
from rxlab.model.config import FIELDS, XDP_VERDICTS, Reconfig, SimConfig, xdp_only

_FLOAT_FIELDS = {f.name for f in fields(SimConfig) if f.type in (float, "float")}

CLAIMS_PACKETS = defaults.CLAIMS_GRID
"""Packets per run of CLAIMS_GRID: memory peaks, goodput and atomics per packet of the grid's
configurations no longer move beyond 100,000 (4 queues x 1024 ring entries cycle ~25 times)."""

CLAIMS_GRID = {
    "page_size": [4096, 16384, 65536],
    "mtu": [1500, 9000],
    "xdp": [(), xdp_only("pass")],
    "connections": [4, 16, 64, 128],
    "strategy": ["full_page", "pp_frag", "pp_frag_upfront"],
    "packets": [CLAIMS_PACKETS],
}
"""The grid around the seed claims: 4/16/64 KB pages, MTU 1500/9000, XDP off/on, 4..128
connections, one page per buffer (pre-patch), page_pool fragments (post-patch) and seed 001's
up-front fragment references. XDP at MTU 9000 on 4 KB pages is beyond MANA_XDP_MTU_MAX: those
12 combinations are reported as invalid, as the driver refuses them."""


def _xdp(v):
    """XDP as the grid may spell it: () / [] / "off", a verdict name, or four fractions."""
    if v == "off" or (isinstance(v, list) and not v):
        return ()
    if isinstance(v, str):
        return xdp_only(v) if v in XDP_VERDICTS else v
    if isinstance(v, (list, tuple)) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
        return tuple(float(x) for x in v)
    return v


def _reconfigs(v):
    if not isinstance(v, (list, tuple)):
        return v
    out = []
    for r in v:
        if isinstance(r, dict):
            if r.get("xdp") is not None:
                r = {**r, "xdp": _xdp(r["xdp"])}
            try:
                r = Reconfig(**r)
            except TypeError:
                raise bad("reconfigs", r, "Reconfig fields at_packet, mtu, xdp, fail") from None
        out.append(r)
    return tuple(out)


def _normal(name, v):
    """One canonical spelling per value, so that equal runs hash equally."""
    if name == "xdp":
        return _xdp(v)
    if name == "reconfigs":
        return _reconfigs(v)
    if name in _FLOAT_FIELDS and isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    return v


def _check_names(names):
    for name in names:
        if name not in FIELDS:
            raise bad("grid field", name, "a SimConfig field: " + ", ".join(FIELDS))


def _checked(grid):
    """The grid checked, not expanded: {field: values} of a dict grid, or the list of {field:
    value} of a list grid."""
    if isinstance(grid, dict):
        if not grid:
            raise bad("grid", grid, "at least one field with a list of values (or a list of configurations)")
        _check_names(grid)
        for name, values in grid.items():
            if not isinstance(values, (list, range)) or not values:
                raise bad(name, values, "a non-empty list of values in a grid (one value: [value])")
        return dict(grid)
    if isinstance(grid, (list, tuple)):
        if not grid:
            raise bad("grid", grid, "at least one configuration (or a dict of lists)")
        points = []
        for c in grid:
            if isinstance(c, SimConfig):
                c = {f: getattr(c, f) for f in FIELDS}
            if not isinstance(c, dict):
                raise bad("grid", c, "a dict of lists, or a list of dicts or SimConfigs")
            _check_names(c)
            points.append(dict(c))
        return points
    raise bad("grid", grid, "a dict of lists, or a list of dicts or SimConfigs")


def _points(grid):
    """The grid as a list of {field: value} dicts."""
    checked = _checked(grid)
    if isinstance(checked, dict):
        return [dict(zip(checked, combo)) for combo in itertools.product(*checked.values())]
    return checked


def _spelling(v):
    """repr(v); for a value nested too deep for repr (refused anyway), an abbreviation."""
    try:
        return repr(v)
    except RecursionError:
        return reprlib.repr(v)


def _packets(v):
    return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else defaults.RUN


def count_runs(grid, seeds=None):
    """``(configurations, seeds, packets)`` of ``grid`` counted without expanding it: at most
    that many configurations (invalid combinations and repeats are dropped when it is expanded),
    the seeds each runs, and the packets of all its runs."""
    checked = _checked(grid)
    n_seeds = 1 if seeds is None else len(_seeds(seeds))
    if isinstance(checked, dict):
        sizes = [len(v) for k, v in checked.items() if k != "packets"]
        n = math.prod(sizes) * len(checked.get("packets", [None]))
        packets = math.prod(sizes) * sum(_packets(p) for p in checked.get("packets", [None]))
    else:
        n, packets = len(checked), sum(_packets(p.get("packets")) for p in checked)
    return n, n_seeds, packets * n_seeds


def _seeds(seeds):
    if is_int(seeds):
        return range(check_int_range("seeds", seeds, 1, 1_000_000))
    if isinstance(seeds, (list, tuple, range)) and len(seeds) > 0:
        return list(dict.fromkeys(check_int_range("seeds", s, 0, 2**32 - 1) for s in seeds))
    raise bad("seeds", seeds, "a count (1..1000000) or a non-empty list of seeds (0..2**32-1)")


def expand(grid, seeds=None):
    """``(configs, invalid)``: the grid's valid configurations, one canonical SimConfig per
    (configuration, seed) in grid order without duplicates; and the combinations SimConfig
    refused, as dicts of the given fields plus ``error``.

    ``seeds``: None keeps each configuration's own seed (SimConfig's default 0 unless the grid
    sets ``seed``); a count n runs seeds 0..n-1; a list runs those seeds.
    """
    points = [{k: _normal(k, v) for k, v in p.items()} for p in _points(grid)]
    if seeds is not None:
        if any("seed" in p for p in points):
            raise bad("seeds", seeds, "not together with a 'seed' field in the grid")
        seed_list = _seeds(seeds)
    configs, invalid, accepted = {}, [], set()
    for p in points:
        try:
            cfg = SimConfig(**p)
        except (ValueError, TypeError) as e:
            invalid.append({**p, "error": str(e)})
            continue
        accepted.update((k, _spelling(v)) for k, v in p.items())
        for s in seed_list if seeds is not None else [cfg.seed]:
            configs.setdefault(cfg.replace(seed=s), None)  # a dict keeps grid order, drops repeats
    # a value in no accepted configuration is wrong in itself if SimConfig refuses it alone
    for p in invalid:
        for k, v in p.items():
            if k != "error" and (k, _spelling(v)) not in accepted:
                try:
                    SimConfig(**{k: v})
                except (ValueError, TypeError) as e:
                    raise ValueError(f"grid: {e}") from None
    return list(configs), invalid


def load_grid(path):
    """A grid from a TOML file: SimConfig fields with lists of values (their cartesian product),
    or an array of ``[[configs]]`` tables, one per configuration."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise bad("grid", str(path), f"a readable TOML file ({e.strerror})") from None
    except UnicodeDecodeError as e:
        raise bad("grid", str(path), f"a TOML file, which is UTF-8 ({e.reason} at byte {e.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise bad("grid", str(path), f"a TOML file ({e})") from None
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise bad("grid", str(path), "a TOML file of values nested a few levels deep, not thousands") from None
    if "configs" in data:
        if len(data) > 1:
            raise bad("grid", str(path), "either fields with lists of values or [[configs]] tables, not both")
        return data["configs"]
    return data
