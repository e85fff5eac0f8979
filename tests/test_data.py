"""The seed claims and measured tables load with typed columns and agree with the seeds."""

import re

import pandas as pd
import pytest

from rxlab.data import load_claims, load_connection_table, parse_conditions
from rxlab.kernel.mana import mana_get_rxbuf_cfg

pytestmark = pytest.mark.no_engine  # no engine code here: the compiled pass only (CONTRIBUTING.md)

SEEDS = __import__("pathlib").Path(__file__).resolve().parents[2] / "shared" / "seeds"


def test_claims_typed():
    c = load_claims()
    assert c["value"].dtype == "float64" and c["value_high"].dtype == "float64"
    assert isinstance(c["comparison"].dtype, pd.CategoricalDtype)
    assert c["id"].is_unique
    assert set(c["seed"]) <= {"000", "001", "002", "003"}  # the seeds data/README.md names
    assert all(isinstance(d, dict) for d in c["conditions"])
    r = c.set_index("id").loc["shortfall_beyond_16"]
    assert (r["value"], r["value_high"], r["comparison"]) == (15.0, 20.0, "range")


def test_claims_cover_the_seeds():
    ids = set(load_claims()["id"])
    for needed in ("buffers_per_page_post", "buffers_per_page_pre", "throughput_gain_64k",
                   "fallback_jumbo_threshold", "fallback_xdp", "shortfall_beyond_16"):
        assert needed in ids


@pytest.mark.skipif(not SEEDS.is_dir(), reason="shared/seeds not beside this checkout")
def test_claim_quotes_are_in_their_seed():
    def flat(s):  # drop mail quote marks and list bullets at line starts, fold white space
        return " ".join(re.sub(r"(?m)^[>*\s]+", "", s).split())

    for _, row in load_claims().iterrows():
        (path,) = SEEDS.glob(f"{row['seed']}_*.txt")
        text = flat(path.read_text())
        for part in row["quote"].split(" ... "):
            assert flat(part) in text, (row["id"], part)


def test_buffer_claims_follow_from_geometry():
    c = load_claims().set_index("id")
    for cid in ("buffers_per_page_post", "buffers_per_page_pre", "fallback_xdp", "fallback_jumbo_9000"):
        cond = c.loc[cid, "conditions"]
        frag_count = mana_get_rxbuf_cfg(int(cond["page_size"]), int(cond["mtu"]), cond["xdp"] == "1",
                                        cond["variant"])[3]
        assert frag_count == c.loc[cid, "value"], cid


def test_connection_table():
    t = load_connection_table()
    assert list(t.dtypes) == ["int64", "float64", "float64"]
    assert t["connections"].tolist() == [4, 8, 16, 32, 48, 64, 128]
    assert t.set_index("connections").loc[32].tolist() == [136.0, 183.0]


def test_parse_conditions():
    assert parse_conditions("a=1; b = x ;") == {"a": "1", "b": "x"}
    with pytest.raises(ValueError, match="conditions item 'oops' is not allowed"):
        parse_conditions("oops")
