"""Load the seed claims and measured tables in ``data/`` as typed DataFrames."""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

COMPARISONS = ("eq", "approx", "range", "ge", "gt", "le")


def _read(name):
    import pandas as pd  # on first use: rxlab.kernel reads DATA_DIR without loading pandas

    path = DATA_DIR / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: rxlab reads data/ from its source tree; install it with `pip install -e .`"
        )
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def parse_conditions(text):
    """Parse ``key=value;key=value`` into a dict of strings."""
    out = {}
    for item in filter(None, (s.strip() for s in text.split(";"))):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"conditions item {item!r} is not allowed: use key=value")
        out[key.strip()] = value.strip()
    return out


def load_claims():
    """``data/claims.csv``: one row per quantitative seed claim.

    Columns: id, seed, quantity, unit, quote (strings); value, value_high (float, NaN
    when not a range); comparison (categorical); conditions (dict).
    """
    import pandas as pd

    df = _read("claims.csv")
    if df["id"].duplicated().any():
        raise ValueError(f"claims.csv: duplicate id {df['id'][df['id'].duplicated()].tolist()}")
    bad_cmp = sorted(set(df["comparison"]) - set(COMPARISONS))
    if bad_cmp:
        raise ValueError(f"claims.csv comparison={bad_cmp} is not allowed: one of {COMPARISONS}")
    df["value"] = pd.to_numeric(df["value"]).astype("float64")
    df["value_high"] = pd.to_numeric(df["value_high"].replace("", None)).astype("float64")
    df["comparison"] = pd.Categorical(df["comparison"], categories=COMPARISONS)
    df["conditions"] = df["conditions"].map(parse_conditions)
    for col in ("id", "seed", "quantity", "unit", "quote"):
        df[col] = df[col].astype("string")
    return df


def load_connection_table():
    """``data/mana_arm64_4k_connections.csv``: seed 001's Gbps by connection count.

    Columns: connections (int64), gbps_frag, gbps_full_page (float64).
    """
    df = _read("mana_arm64_4k_connections.csv")
    return df.astype({"connections": "int64", "gbps_frag": "float64", "gbps_full_page": "float64"})
