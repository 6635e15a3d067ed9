# Vendored unchanged from ../shared/bench (independent baseline for `kefu bench --baseline`; see benchmarks/README.md).
import polars as pl
K = ["shop", "agent", "buyer", "session_start"]
V = ["n_questions", "n_answered", "first_response_s", "avg_response_s"]
def load(n):
    return pl.read_parquet(f"out_{n}.parquet").select(
        *[pl.col(k).cast(pl.String if k != "session_start" else pl.Int64) for k in K],
        *[pl.col(v).cast(pl.Float64) for v in V]).sort(K)
a = load("polars")
import sys
for n in (sys.argv[1:] or ["duckdb", "pandas"]):
    b = load(n)
    print(n, "rows", a.height, b.height, "keys equal:", a.select(K).equals(b.select(K)))
    j = a.join(b, on=K, how="full", suffix="_b", nulls_equal=True)
    for v in V:
        x, y = pl.col(v), pl.col(v + "_b")
        bad = j.filter(~(((x - y).abs() < 1e-6) | (x.is_null() & y.is_null()))).height
        print(f"   {v}: mismatching rows vs polars = {bad}")
