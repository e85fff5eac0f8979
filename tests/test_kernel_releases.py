"""Kernel releases as a parameter (issue 12): the table of data/kernels.toml, every behaviour of
every release with the commit behind it."""

import itertools
import re

import pytest

from rxlab.kernel import releases

NEWEST = releases.NEWEST
HEX = re.compile(r"[0-9a-f]{12,40}")


def first(pred):
    """The first release (oldest first) for which ``pred`` holds."""
    return next(r.name for r in releases.releases() if pred(r))


# -- the table ------------------------------------------------------------------------------------

def test_the_table_has_the_releases_the_issue_asks_for():
    names = releases.names()
    assert names[0] == "6.1" and "6.6" in names and NEWEST == names[-1]
    assert first(lambda r: r.scaling_ratio_init == 128) == "6.10"  # 697a6c8cec03
    assert first(lambda r: r.tcp_rmem_max == 32 << 20) == "6.16"  # 572be9bf9d0d
    assert first(lambda r: r.admission == "rmem_plus_truesize") == "6.17"  # 1d2fbaad7cd8
    newest = releases.newest()
    assert (newest.mana_truesize, newest.mana_queue_cap, newest.mana_rx_layout) == ("backing_alloc", 16,
                                                                                  "page_pool_frag")
    assert list(names) == sorted(names, key=lambda n: tuple(map(int, n.split("."))))


def test_every_behaviour_of_every_row_cites_its_commit():
    for r in releases.releases():
        assert r.changes, r.name
        assert {b for b, _ in r.sources} == set(releases.BEHAVIOURS)
        for c in (*r.changes, *(c for _, c in r.sources)):
            assert HEX.fullmatch(c.commit) or c.commit == "v6.1", (r.name, c)
            assert c.subject and c.where, (r.name, c.behaviour)
            assert r.source(c.behaviour).value == getattr(r, c.behaviour)
    first_row = releases.releases()[0]
    assert {c.behaviour for c in first_row.changes} == set(releases.BEHAVIOURS)
    # a later row changes something, and only with a commit (never "the value at a tag")
    for r in releases.releases()[1:]:
        assert all(HEX.fullmatch(c.commit) for c in r.changes), r.name


def test_a_row_keeps_what_it_does_not_change():
    rows = releases.releases()
    for before, after in itertools.pairwise(rows):
        changed = {c.behaviour for c in after.changes}
        for b in releases.BEHAVIOURS:
            if b not in changed:
                assert getattr(after, b) == getattr(before, b), (after.name, b)


def test_the_table_states_what_the_engine_does_not_model():
    todo = releases.not_modelled()
    assert {"admission", "rcvbuf_autotune", "rcvbuf_low_rtt_us", "ooo_updates_ratio", "tcp_rmem_default",
            "mana_rx_layout"} == set(todo)
    sixone = releases.release("6.1")
    assert not sixone.source("mana_rx_layout").modelled  # page_alloc: simulated as page_pool pages
    assert releases.newest().source("mana_rx_layout").modelled
    assert releases.newest().source("window").modelled


@pytest.mark.parametrize("edit,needle", [
    (lambda d: d["release"][0]["changes"].pop("window"),
     r"release 6\.1\.changes=\['window'\] is not allowed: nothing missing"),
    (lambda d: d["release"][1]["changes"]["window"].update(value="half"),
     r"release 6\.6\.changes\.window\.value='half' is not allowed: one of 'adv_win_scale', 'scaling_ratio'"),
    (lambda d: d["release"][1]["changes"]["window"].update(commit="abc"),
     r"release 6\.6\.changes\.window\.commit='abc' is not allowed: a commit hash"),
    (lambda d: d["release"][1]["changes"].update(colour={"value": 1}),
     r"release 6\.6\.changes=\['colour'\] is not allowed: behaviours of"),
    (lambda d: d["release"][2].update(name="6.1"), r"release 6\.1\.name='6\.1' is not allowed: a name not used"),
    (lambda d: d["release"][1]["changes"]["skb_defer_max"].update(value="64"),
     r"skb_defer_max\.value='64' is not allowed: a int"),
])
def test_a_bad_table_names_the_row_and_the_key(edit, needle):
    import tomllib

    data = tomllib.loads(releases.KERNELS_TOML.read_text())
    data["release"][1]["changes"].setdefault("skb_defer_max", {"value": 64, "commit": "b61785852ed0",
                                                              "subject": "s", "where": "w"})
    edit(data)
    with pytest.raises(ValueError, match=needle):
        releases.parse(data)
