# Vendored unchanged from ../shared/bench (independent baseline for `kefu bench --baseline`; see benchmarks/README.md).
import time, pandas as pd
t0 = time.perf_counter()
df = pd.read_parquet("chats.parquet", columns=["shop", "agent", "buyer", "ts", "msg_id", "sender_role", "is_auto_reply"])
df["t"] = (df["ts"] - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)   # unit-agnostic epoch seconds
df = df.sort_values(["shop", "agent", "buyer", "ts", "msg_id"])

def per_thread(g):
    out = []
    prev = None
    for t, role, auto in zip(g["t"].tolist(), g["sender_role"].tolist(), g["is_auto_reply"].tolist()):
        if prev is None or t - prev > 1800:          # new session
            if prev is not None and nq:
                out.append((start, nq, len(rts), first, sum(rts) / len(rts) if rts else None))
            start, nq, rts, first, pending = t, 0, [], None, None
        prev = t
        if role == "buyer":
            if pending is None:                      # consecutive buyer msgs collapse into one question
                pending = t; nq += 1
        elif role == "agent" and not auto and pending is not None:
            rts.append(t - pending)
            if nq == 1: first = float(t - pending)
            pending = None
    if nq:
        out.append((start, nq, len(rts), first, sum(rts) / len(rts) if rts else None))
    return out

res = df.groupby(["shop", "agent", "buyer"], sort=False)[["t", "sender_role", "is_auto_reply"]].apply(per_thread)
res = res[res.str.len() > 0].explode()
out = pd.DataFrame(res.tolist(), index=res.index,
                   columns=["session_start", "n_questions", "n_answered", "first_response_s", "avg_response_s"]).reset_index()
t1 = time.perf_counter()
out.to_parquet("out_pandas.parquet")
print(f"pandas {pd.__version__}: {len(out)} conversations, compute {t1-t0:.2f}s")
print(out[["first_response_s"]].median().iloc[0], out["avg_response_s"].mean(), out["n_questions"].sum())
