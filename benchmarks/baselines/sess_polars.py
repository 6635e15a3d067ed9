# Vendored unchanged from ../shared/bench (independent baseline for `kefu bench --baseline`; see benchmarks/README.md).
import time, polars as pl
t0 = time.perf_counter()
K = ["shop", "agent", "buyer"]
c = pl.col
lf = pl.scan_parquet("chats.parquet").sort(K + ["ts", "msg_id"])
new_thread = pl.any_horizontal([c(k) != c(k).shift() for k in K])
gap_s = (c("ts") - c("ts").shift()).dt.total_seconds()
lf = lf.with_columns(new_sess=(new_thread | (gap_s > 1800)).fill_null(True))
lf = lf.with_columns(conv=c("new_sess").cum_sum(),
                     session_start=pl.when(c("new_sess")).then(c("ts")).forward_fill())
is_b = c("sender_role") == "buyer"
rel = lf.filter(is_b | ((c("sender_role") == "agent") & ~c("is_auto_reply")))
rel = rel.with_columns(
    q_start=(is_b & ((c("conv") != c("conv").shift()) | (c("sender_role").shift() != "buyer"))).fill_null(True),
    a_ts=pl.when(~is_b).then(c("ts")).backward_fill(),      # next agent reply (global order)...
    a_conv=pl.when(~is_b).then(c("conv")).backward_fill(),  # ...valid only if it is in the same conversation
).filter("q_start").with_columns(
    rt=pl.when(c("a_conv") == c("conv")).then((c("a_ts") - c("ts")).dt.total_seconds()))
out = rel.group_by("conv").agg(
    c(K).first(), session_start=c("session_start").first().dt.epoch("s"),
    n_questions=pl.len(), n_answered=c("rt").count(),
    first_response_s=c("rt").first().cast(pl.Float64), avg_response_s=c("rt").mean(),
).drop("conv")
df = out.collect()
t1 = time.perf_counter()
df.write_parquet("out_polars.parquet")
print(f"polars: {df.height} conversations, compute {t1-t0:.2f}s")
print(df.select(c("first_response_s").median(), c("avg_response_s").mean(), c("n_questions").sum()))
