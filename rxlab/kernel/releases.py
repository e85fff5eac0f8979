"""Linux releases as data: which RX-path and TCP receive behaviours each release has, each with the
commit that introduced it (``data/kernels.toml``).

:data:`BEHAVIOURS` is the vocabulary: every behaviour a release row may set, the values it takes,
what it means, the :class:`~rxlab.model.config.SimConfig` field whose default it gives (if any)
and whether rxlab's engine models it yet. The first row of the table sets every behaviour; each
later row gives only what changed, with its commit, so a row's values are the previous row's
with its changes applied. :func:`releases` returns the rows oldest first as :class:`Release`
objects; :func:`release` looks one up by name (``"6.1"``, ``"7.1"``, ...); :data:`DEFAULT` is the
default of ``SimConfig.kernel``, and :data:`NEWEST` the table's last row.
"""

import re
import sys
from dataclasses import dataclass, fields, replace
from functools import cache

from rxlab.data import DATA_DIR
from rxlab.errors import bad

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KERNELS_TOML = DATA_DIR / "kernels.toml"

MODELLED = "modelled"


@dataclass(frozen=True)
class Behaviour:
    """One behaviour a release row sets.

    ``values``: the allowed values (a tuple of strings), or the Python type of the value.
    ``field``: the SimConfig field whose default it gives, or "".
    ``engine``: :data:`MODELLED`, or why and how far the engine does not model it yet;
    ``unmodelled``: the values it does not model when only some are not (empty: all of them).
    """

    name: str
    values: object
    meaning: str
    field: str = ""
    engine: str = MODELLED
    unmodelled: tuple = ()

    @property
    def modelled(self):
        """The engine models every value."""
        return self.engine == MODELLED

    def models(self, value):
        """The engine models this behaviour with ``value``."""
        return self.modelled or bool(self.unmodelled) and value not in self.unmodelled

    def check(self, where, value):
        if isinstance(self.values, tuple):
            if value not in self.values:
                raise bad(where, value, "one of " + ", ".join(repr(v) for v in self.values))
        elif isinstance(value, bool) != (self.values is bool) or not isinstance(value, self.values):
            raise bad(where, value, f"a {self.values.__name__}")
        return value


_B = [
    Behaviour("window", ("adv_win_scale", "scaling_ratio"),
              "how tcp_win_from_space() turns free receive space into the advertised window: "
              "space - (space >> tcp_adv_win_scale), or space * scaling_ratio >> 8"),
    Behaviour("tcp_adv_win_scale", int, "net.ipv4.tcp_adv_win_scale (window 'adv_win_scale')"),
    Behaviour("scaling_ratio_init", int,
              "the scaling_ratio a socket starts with, before its first measured skb (0: no scaling_ratio)"),
    Behaviour("tcp_rmem_default", int,
              "tcp_rmem[1]: the sk_rcvbuf a socket starts with (rxlab: at most tcp_rmem[2])",
              field="tcp_rmem_default"),
    Behaviour("tcp_rmem_max", int, "tcp_rmem[2]: the most autotuning (or tcp_clamp_window) grows sk_rcvbuf to",
              field="tcp_rmem"),
    Behaviour("admission", ("rmem_before", "rmem_plus_truesize", "rmem_plus_len"),
              "when an arriving skb makes TCP prune (tcp_clamp_window, tcp_collapse, then drop unless the "
              "receive queue is empty): once sk_rmem_alloc > sk_rcvbuf, or unless sk_rmem_alloc + truesize "
              "<= sk_rcvbuf, or (tcp_can_ingest by skb->len) unless sk_rmem_alloc + len <= sk_rcvbuf"),
    Behaviour("prune_empty", ("clamp", "drop"),
              "what tcp_prune_queue() does when the receive queue is empty (sk_rmem_alloc 0): go on to "
              "tcp_clamp_window(), which under the 6.17 admission rule sets sk_rcvbuf to 0 (clamp), or drop "
              "the skb at once, leaving sk_rcvbuf as it is (drop; tcp_data_queue() then force-admits it)"),
    Behaviour("rcvq_nomem", ("drop", "zero_window", "zero_window_kept"),
              "an in-order skb tcp_try_rmem_schedule() refuses (tcp_data_queue): dropped with no ACK unless the "
              "queue is empty (drop); the same, but an ACK at once advertises a zero window (ICSK_ACK_NOMEM), "
              "rcv_wnd and rcv_wup left as they were (zero_window); and tcp_select_window() records rcv_wnd = 0, "
              "rcv_wup = rcv_nxt (zero_window_kept)"),
    Behaviour("window_clamp", ("autotune", "scaling_ratio", "set_clamp"),
              "what a newly measured scaling_ratio does to window_clamp (tcp_measure_rcv_mss): nothing, only "
              "autotuning's growth of sk_rcvbuf moves it (autotune); it becomes tcp_win_from_space(sk_rcvbuf) "
              "at the new ratio (scaling_ratio); the same through tcp_set_window_clamp(), which also moves "
              "rcv_ssthresh, and rcvq_space.space is capped at it (set_clamp)"),
    Behaviour("ooo_updates_ratio", bool, "out-of-order packets update rcv_mss and scaling_ratio"),
    Behaviour("rcvbuf_autotune", bool, "tcp_rcv_space_adjust() grows sk_rcvbuf (net.ipv4.tcp_moderate_rcvbuf)"),
    Behaviour("rcvbuf_low_rtt_us", int,
              "net.ipv4.tcp_rcvbuf_low_rtt: below this RTT sk_rcvbuf grows by rtt/threshold (0: no such sysctl)"),
    Behaviour("rcvbuf_grow", ("cushion", "copied_2x", "copied_2x_grow"),
              "the window autotuning asks for when the application copied more in an RTT than ever before: "
              "2 x copied + 16 x advmss, grown for slow start (cushion); 2 x copied (copied_2x); 2 x copied "
              "grown for slow start, or by rtt / tcp_rcvbuf_low_rtt below it (copied_2x_grow)"),
    Behaviour("skb_defer_max", int, "net.core.skb_defer_max", field="skb_defer_max"),
    Behaviour("mana_rx_layout", ("page_alloc", "page_pool_page", "page_pool_frag"),
              "MANA's RX buffers: a page from alloc_page() each (no page_pool), a page_pool page each "
              "(strategy full_page), or page_pool fragments (strategy pp_frag)", field="strategy",
              engine="page_alloc not modelled: simulated as page_pool_page (a page_pool page per buffer, "
                     "recycled; 6.1 frees each page to the page allocator)", unmodelled=("page_alloc",)),
    Behaviour("mana_truesize", ("alloc_size", "backing_alloc"),
              "skb->truesize of a one-buffer-per-page packet: from alloc_size, or from the whole backing "
              "allocation PAGE_SIZE << get_order(alloc_size)"),
    Behaviour("mana_max_mtu", ("eth_data_len", "adapter_mtu"),
              "the largest MTU: 1500, or the adapter's MTU less ETH_HLEN (jumbo frames)"),
    Behaviour("mana_queue_cap", int,
              "MANA's default queue count is min(num_online_cpus(), this, hardware limits)", field="queues"),
    Behaviour("mana_ring_default", int, "RX ring entries per queue by default", field="ring_size"),
    Behaviour("mana_ring_param", ("fixed", "roundup_pow2"),
              "ethtool -G rx N: not supported (the ring has mana_ring_default entries), or rounded up to a "
              "power of two in 128..8192"),
    Behaviour("pp_alloc_cache", ("fixed", "page_size_scaled"),
              "page_pool's alloc cache: 128 pages refilled 64 at a time on every PAGE_SIZE, or refill "
              "64 / 16 / 4 on 4 / 16 / 64 KB pages and size twice the refill"),
]
BEHAVIOURS = {b.name: b for b in _B}


@dataclass(frozen=True)
class Change:
    """One behaviour a release row sets, and the commit that set it."""

    behaviour: str
    value: object
    commit: str
    subject: str
    where: str
    release: str  # the release the commit first shipped in
    uncertain: bool
    note: str = ""

    @property
    def modelled(self):
        """The engine models this behaviour with this value."""
        return BEHAVIOURS[self.behaviour].models(self.value)


@dataclass(frozen=True)
class Release:
    """One row of ``data/kernels.toml`` with every behaviour's value in force.

    ``changes``: what this row changes against the row it follows (the first row: everything);
    ``sources``: for every behaviour, the :class:`Change` that set the value in force; ``base``: the
    release a stable point release follows ("6.18" for "6.18.17"), or "" for a mainline release,
    which follows the mainline row before it.
    """

    name: str
    uncertain: bool
    summary: str
    changes: tuple
    sources: tuple
    base: str
    window: str
    tcp_adv_win_scale: int
    scaling_ratio_init: int
    tcp_rmem_default: int
    tcp_rmem_max: int
    admission: str
    prune_empty: str
    rcvq_nomem: str
    window_clamp: str
    ooo_updates_ratio: bool
    rcvbuf_autotune: bool
    rcvbuf_low_rtt_us: int
    rcvbuf_grow: str
    skb_defer_max: int
    mana_rx_layout: str
    mana_truesize: str
    mana_max_mtu: str
    mana_queue_cap: int
    mana_ring_default: int
    mana_ring_param: str
    pp_alloc_cache: str

    def source(self, behaviour):
        """The Change (commit) behind the value of ``behaviour`` in this release."""
        return dict(self.sources)[behaviour]

    def values(self):
        """{behaviour: value} in the order of :data:`BEHAVIOURS`."""
        return {name: getattr(self, name) for name in BEHAVIOURS}


assert [f.name for f in fields(Release)][6:] == list(BEHAVIOURS), "Release has one field per behaviour"

_CHANGE_KEYS = {"value", "commit", "subject", "where", "release", "uncertain", "note"}
_ROW_KEYS = {"name", "uncertain", "summary", "changes", "base"}
_POINT = re.compile(r"(\d+\.\d+)\.(\d+)")


def _commit(where, v):
    ok = isinstance(v, str) and (v == "v6.1" or (len(v) >= 12 and all(c in "0123456789abcdef" for c in v)))
    if not ok:
        raise bad(where, v, "a commit hash of 12 or more hex digits, or 'v6.1' (the value at that tag)")
    return v


def _text(where, v):
    if not isinstance(v, str) or not v.strip():
        raise bad(where, v, "a non-empty string")
    return v


def _bool(where, v):
    if not isinstance(v, bool):
        raise bad(where, v, "true or false")
    return v


def parse(data, origin="kernels.toml"):
    """The release rows of a parsed table (see the header of ``data/kernels.toml``); every error
    names the row and the key."""
    rows = data.get("release") if isinstance(data, dict) else None
    if set(data) - {"release"} or not isinstance(rows, list) or not rows:
        raise bad(origin, sorted(data), "[[release]] tables and nothing else")
    out, values, sources, names = [], {}, {}, []
    state = {}  # name -> (values, sources) in force after that row
    mainline = None  # the last row without a base: the one a mainline row follows
    for i, row in enumerate(rows):
        at = f"{origin}: release[{i}]"
        if not isinstance(row, dict) or set(row) - _ROW_KEYS or not {"name", "summary", "changes"} <= set(row):
            raise bad(at, sorted(row) if isinstance(row, dict) else row,
                      "a table with name, summary, changes and optionally uncertain and base")
        name = _text(f"{at}.name", row["name"])
        at = f"{origin}: release {name}"
        if name in names:
            raise bad(f"{at}.name", name, "a name not used by an earlier row")
        names.append(name)
        base = row.get("base", "")
        if base:  # a stable point release: its mainline row's values, then its backports
            m = _POINT.fullmatch(name)
            if m is None or m.group(1) != base or base not in state or state[base][2]:
                raise bad(f"{at}.base", base, f"the earlier mainline row {name} is a point release of "
                          "(name X.Y.Z, base X.Y)")
            values, sources = dict(state[base][0]), dict(state[base][1])
        elif mainline is not None:
            values, sources = dict(state[mainline][0]), dict(state[mainline][1])
        row_uncertain = _bool(f"{at}.uncertain", row.get("uncertain", False))
        changes = row["changes"]
        if not isinstance(changes, dict) or not changes:
            raise bad(f"{at}.changes", changes, "at least one behaviour")
        unknown = sorted(set(changes) - set(BEHAVIOURS))
        if unknown:
            raise bad(f"{at}.changes", unknown, "behaviours of rxlab.kernel.releases.BEHAVIOURS: "
                      + ", ".join(BEHAVIOURS))
        if i == 0 and set(changes) != set(BEHAVIOURS):
            raise bad(f"{at}.changes", sorted(set(BEHAVIOURS) - set(changes)),
                      "nothing missing: the first row sets every behaviour")
        made = []
        for key, behaviour in BEHAVIOURS.items():  # a fixed order, whatever the file's
            if key not in changes:
                continue
            c, w = changes[key], f"{at}.changes.{key}"
            if not isinstance(c, dict) or set(c) - _CHANGE_KEYS or not {"value", "commit", "subject", "where"} <= set(c):
                raise bad(w, c, "a table with value, commit, subject, where and optionally release, uncertain, note")
            change = Change(
                behaviour=key, value=behaviour.check(f"{w}.value", c["value"]),
                commit=_commit(f"{w}.commit", c["commit"]), subject=_text(f"{w}.subject", c["subject"]),
                where=_text(f"{w}.where", c["where"]), release=_text(f"{w}.release", c.get("release", name)),
                uncertain=_bool(f"{w}.uncertain", c.get("uncertain", False)),
                note=c.get("note", "") if isinstance(c.get("note", ""), str) else _text(f"{w}.note", c["note"]))
            made.append(change)
            values[key] = change.value
            sources[key] = change
        out.append(Release(name=name, uncertain=row_uncertain, summary=_text(f"{at}.summary", row["summary"]),
                           changes=tuple(made), sources=tuple(sources.items()), base=base, **values))
        state[name] = (values, sources, base)
        if not base:
            mainline = name
    return tuple(out)


@cache
def load_releases(path=KERNELS_TOML):
    """The rows of ``path`` (default ``data/kernels.toml``), oldest first."""
    try:
        text = path.read_text()
    except OSError as e:
        raise bad("kernels", str(path), f"a readable TOML file ({e.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise bad("kernels", str(path), f"a TOML file ({e})") from None
    return parse(data, path.name)


def releases():
    """Every release rxlab supports, oldest first."""
    return load_releases()


def names():
    return tuple(r.name for r in releases())


def release(name, field="kernel"):
    """The :class:`Release` called ``name``: a row of the table, or a stable point release "X.Y.Z" of a
    mainline row X.Y, which behaves as the newest point row of that branch up to Z ("6.18.20" as
    "6.18.17", which has 026dfef287c0) or, below every point row, as X.Y itself ("6.18.0" is 6.18).
    A bad name raises a ValueError naming ``field``."""
    rows = {r.name: r for r in releases()}
    if isinstance(name, str) and name in rows:
        return rows[name]
    m = _POINT.fullmatch(name) if isinstance(name, str) else None
    if m is not None and m.group(1) in rows and not rows[m.group(1)].base:
        branch, z = m.group(1), int(m.group(2))
        points = [r for r in rows.values() if r.base == branch and int(_POINT.fullmatch(r.name).group(2)) <= z]
        row = max(points, key=lambda r: int(_POINT.fullmatch(r.name).group(2))) if points else rows[branch]
        return replace(row, name=name, summary=f"as {row.name}: {row.summary}")
    allowed = ("one of " + ", ".join(repr(n) for n in names())
               + ", or a stable point release X.Y.Z of one of them (behaving as its newest row up to Z)")
    raise bad(field, name, allowed if isinstance(name, str) else "a release name (a string): " + allowed)


def with_fixes(rel, fixes, field="fixes"):
    """``rel`` with the behaviour changes of the commits ``fixes`` applied, as a kernel built with those
    patches (a backport): each commit must be one of the table's (``rxlab kernels``), named by 12 or
    more of its hex digits. Its name says so: "6.17+026dfef287c0"."""
    if not fixes:
        return rel
    known = {c.commit: c for r in releases() for c in r.changes}
    values, sources = rel.values(), dict(rel.sources)
    for f in fixes:
        hits = [c for k, c in known.items() if isinstance(f, str) and len(f) >= 12 and k.startswith(f.lower())]
        if not hits:
            raise bad(field, f, "commits of data/kernels.toml (12+ hex digits): "
                      + ", ".join(sorted(k for k in known if k != "v6.1")))
        for c in hits:
            values[c.behaviour] = c.value
            sources[c.behaviour] = c
    return replace(rel, name=f"{rel.name}+{'+'.join(f[:12] for f in fixes)}", sources=tuple(sources.items()),
                   **values)


def newest():
    """The newest mainline release of the table (point releases follow their own mainline row)."""
    return [r for r in releases() if not r.base][-1]


NEWEST = newest().name
"""The newest release of the table."""

DEFAULT = "7.1"
"""SimConfig's default ``kernel``. A constant, changed in a commit of its own: a new row of
``data/kernels.toml`` is additive, and moves no default run, digest or notebook check."""
release(DEFAULT, "releases.DEFAULT")


def not_modelled():
    """{behaviour: why} for every behaviour the engine does not model (fully) yet."""
    return {b.name: b.engine for b in BEHAVIOURS.values() if not b.modelled}
