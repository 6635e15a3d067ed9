"""Staging: casts, quarantine reasons, month filter, dedupe and row accounting."""

from datetime import date, datetime
from decimal import Decimal

import polars as pl

from pipelines.staging.stage import dedupe, month_bounds, stage_batch


def refunds_frame(**over):
    base = {
        "refund_id": ['="2019000000000000301"', "'2019000000000000302", "\t2019000000000000303", "1.23457E+17", "2019000000000000305", "2019000000000000306", "2019000000000000307"],
        "order_id": [f"301200000000000000{i}" if i else "" for i in (1, 2, 3, 4, 0, 6, 7)],
        "applied_at": [
            "2026-10-01 09:00:00",
            "2026/10/2 9:05",
            "2026年10月03日10:00:00",
            "2026-10-04",
            "2026-10-05 00:00:00",
            "2026-09-30 23:59:59",
            "不是时间",
        ],
        "status": ["退款成功", "退款关闭", "退款成功 ", "退款成功", "退款成功", "退款成功", "退款成功"],
        "refund_amount": ["12.50", "1,000.00", "¥3", "4", "5", "6", "7"],
        "source_row": [2, 3, 4, 5, 6, 7, 8],
    }
    base.update(over)
    return pl.DataFrame(base)


def test_casts_ids_times_money_and_accounts_every_row():
    loaded, quarantine, counts = stage_batch("refunds", refunds_frame(), "2026-10", "r.csv")
    assert loaded["refund_id"].to_list() == ["2019000000000000301", "2019000000000000302", "2019000000000000303"]
    assert loaded["applied_at"].to_list() == [
        datetime(2026, 10, 1, 9, 0),
        datetime(2026, 10, 2, 9, 5),
        datetime(2026, 10, 3, 10, 0),
    ]
    assert loaded["refund_amount"].to_list() == [Decimal("12.50"), Decimal("1000.00"), Decimal("3.00")]
    assert loaded["status"].to_list() == ["退款成功", "退款关闭", "退款成功"]
    assert set(loaded["month"]) == {"2026-10"} and set(loaded["source_file"]) == {"r.csv"}
    reasons = dict(zip(quarantine["source_row"], quarantine["reason"]))
    assert reasons == {
        5: "退款编号被Excel改成科学计数法, 原始数字已丢失: '1.23457E+17'",
        6: "缺少订单编号",
        8: "退款的申请时间无法解析: '不是时间'",
    }
    assert (counts.rows_read, counts.loaded, counts.quarantined, counts.out_of_month) == (7, 3, 3, 1)
    assert counts.balanced


def test_negative_amount_and_unknown_status_are_quarantined_with_reason():
    f = refunds_frame(refund_amount=["-1", "2", "3", "4", "5", "6", "7"], status=["退款成功", "飞走了"] + ["退款成功"] * 5)
    _, q, _ = stage_batch("refunds", f, "2026-10", "r.csv")
    reasons = dict(zip(q["source_row"], q["reason"]))
    assert reasons[2] == "买家退款金额不能为负数/小于0: -1.00"
    assert reasons[3] == "退款状态不是允许的值: '飞走了'"


def test_more_than_two_decimals_is_not_silently_rounded():
    f = refunds_frame(refund_amount=["6.125"] + ["1"] * 6)
    _, q, _ = stage_batch("refunds", f, "2026-10", "r.csv")
    assert "买家退款金额无法解析: '6.125'" in q.filter(pl.col("source_row") == 2)["reason"][0]


def test_reader_reason_is_kept():
    f = refunds_frame(_reason=[None, "这一行被截断", None, None, None, None, None])
    _, q, _ = stage_batch("refunds", f, "2026-10", "r.csv")
    assert q.filter(pl.col("source_row") == 3)["reason"][0] == "这一行被截断"


def test_month_bounds_are_local_and_half_open():
    assert month_bounds("2026-12") == (datetime(2026, 12, 1), datetime(2027, 1, 1))
    f = pl.DataFrame(
        {
            "dingtalk_name": ["张三", "张三", "张三"],
            "day": ["2026-10-31", "2026-11-01", "2026-09-30"],
            "status": ["正常", "正常", "正常"],
            "source_row": [1, 1, 1],
        }
    )
    loaded, _, counts = stage_batch("attendance", f, "2026-10", "a.xlsx")
    assert loaded["day"].to_list() == [date(2026, 10, 31)]
    assert counts.out_of_month == 2


def test_ratings_month_compared_to_ingested_month():
    f = pl.DataFrame(
        {"rating_month": ["2026-10", "2026年9月", "2026/10"], "agent_account": ["店:a", "店:b", "店:c"], "cooperation": ["优", "良", "中"], "source_row": [2, 3, 4]}
    )
    loaded, _, counts = stage_batch("ratings", f, "2026-10", "s.xlsx")
    assert loaded["agent_account"].to_list() == ["店:a", "店:c"]
    assert counts.out_of_month == 1


def msg_rows(texts, times, file):
    n = len(texts)
    return pl.DataFrame(
        {
            "shop": ["店"] * n,
            "agent_account": ["店:小美"] * n,
            "buyer": ["买家1"] * n,
            "sender": ["买家1"] * n,
            "sender_role": ["buyer"] * n,
            "sent_at": times,
            "text": texts,
            "event": ["message"] * n,
            "seq": list(range(n)),
            "source_row": list(range(1, n + 1)),
        }
    )


def test_messages_dedupe_keeps_in_file_repeats_but_collapses_overlapping_exports():
    t = "2026-10-01 10:00:00"
    a, _, _ = stage_batch("messages", msg_rows(["在吗", "在吗", "退款"], [t, t, t], "a.csv"), "2026-10", "a.csv")
    b, _, _ = stage_batch("messages", msg_rows(["在吗", "在吗", "在吗"], [t, t, t], "b.csv"), "2026-10", "b.csv")
    out, dups = dedupe("messages", [a, b])
    # a has 在吗 x2 + 退款; b has 在吗 x3: its first two repeat a's, the third is new
    assert out["text"].to_list() == ["在吗", "在吗", "退款", "在吗"]
    assert out["source_file"].to_list() == ["a.csv", "a.csv", "a.csv", "b.csv"]
    assert dups == {"b.csv": 2}


def test_required_missing_lineage_is_filled():
    f = pl.DataFrame({"agent_account": ["店:a"], "name": ["A"], "role": ["组长"], "source_row": [2]})
    _, q, _ = stage_batch("roster", f, "2026-10", "s.xlsx")
    assert q["reason"][0] == "岗位不是允许的值: '组长'"
    assert q["source_file"][0] == "s.xlsx" and q["source_sheet"][0] is None


def test_long_ids_truncated_by_excel_are_quarantined_not_loaded():
    f = refunds_frame(refund_id=["3012345678901230000", "3012345678901234560", "301234567890123", "2019000000000000304", "2019000000000000305", "2019000000000000306", "2019000000000000307"],
                      applied_at=["2026-10-01 09:00:00"] * 7)
    loaded, q, counts = stage_batch("refunds", f, "2026-10", "r.xlsx")
    reasons = dict(zip(q["source_row"], q["reason"]))
    assert reasons[2] == "退款编号超过15位且末尾全是0, 疑似被Excel当数字截断(请按文本重新导出): '3012345678901230000'"
    # one trailing zero after 15+ real digits, or a 15-digit id, is a normal id
    assert {"3012345678901234560", "301234567890123"} <= set(loaded["refund_id"])
    assert counts.balanced
