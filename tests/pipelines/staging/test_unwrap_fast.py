"""``unwrap_id_series`` (the preparse of id columns: Excel wrappers cut by position, regexes
on the rows they can change) equals the plain ``unwrap_id`` expression on generated ids."""

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.staging.stage import unwrap_id, unwrap_id_series

PARTS = ["=", "\u3000", "\x0b", '"', "'", " ", "\t", "\n", "\r", "3012", "0", ".", ".0", "00", "e+", "1.2E+18", "X", "退款", "#N/A", "-"]
parts = st.lists(st.sampled_from(PARTS), max_size=7).map("".join)
# Excel's wrapper ="…" with any whitespace after '=' (only then does its regex matter)
wrapped = st.tuples(st.sampled_from(["", " ", "\u3000", "\n", "\t ", "\x0b"]), parts, st.sampled_from(['"', ""])).map(
    lambda t: f'={t[0]}"{t[1]}{t[2]}')
ids = st.one_of(parts, wrapped)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(ids, st.none()), min_size=1, max_size=25))
def test_unwrap_series_equals_the_expression(values):
    s = pl.Series("order_id", values, dtype=pl.String)
    want = pl.DataFrame({"order_id": s}).select(unwrap_id(pl.col("order_id")))["order_id"]
    assert unwrap_id_series(s).to_list() == want.to_list()


def test_unwrap_examples():
    s = pl.Series("x", ['="3012345678901234567"', '= "5012"', "'3012", "\t3012", "3012.0", '="a\nb"', '="', "  ", None, '=\u3000"5012"', '=\n"77.00"'])
    assert unwrap_id_series(s).to_list() == ["3012345678901234567", "5012", "3012", "3012", "3012", 'a\nb', None, None, None, "5012", "77"]
