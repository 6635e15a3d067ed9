"""``python -m pipelines.sample --month 2026-10 --out DIR [--agents 8] [--seed N] [--messages N] [--json]``"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import generate


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m pipelines.sample", description="生成样例月份的售后导出文件")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--agents", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--messages", type=int, default=None)
    p.add_argument("--json", action="store_true", help="print the full summary (files + ground truth) as JSON")
    a = p.parse_args(argv)
    s = generate(a.month, a.out, agents=a.agents, seed=a.seed, messages=a.messages)
    if a.json:
        print(s.to_json())
        return 0
    for f in s.files:
        rows = ", ".join(f"{k}={v}" for k, v in f.rows.items())
        print(f"{f.name}\t{f.layout}\t{f.encoding}\t{f.size:,} B\t{rows}")
    t = s.truth
    print(f"{len(s.files)} files, {s.total_bytes:,} bytes, {s.seconds:.2f} s; messages={t['messages']} "
          f"message_rows={t['message_rows']} duplicates={t['duplicate_messages']} refunds={t['refunds']} "
          f"refund_rate={t['refund_rate']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
