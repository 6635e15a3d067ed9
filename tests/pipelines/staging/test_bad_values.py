"""Values that are not what their column says are quarantined with a reason, never loaded
(issue 9 item 3): ids that are no ids, missing amounts, unknown statuses; and duplicate
roster/rating rows that disagree are an ingest error naming both rows."""

from __future__ import annotations

import openpyxl
import polars as pl
import pytest

from pipelines.ingest import IngestError, stage_inbox
from pipelines.staging.stage import stage_batch

GOOD_REFUND, GOOD_ORDER = "2019052481706674363", "3012927924086460711"


def refunds(refund_ids: list[str], order_ids: list[str] | None = None, **over) -> pl.DataFrame:
    n = len(refund_ids)
    base = {
        "refund_id": refund_ids,
        "order_id": order_ids or [GOOD_ORDER] * n,
        "applied_at": ["2026-10-03 10:00:00"] * n,
        "status": ["退款成功"] * n,
        "refund_amount": ["12.00"] * n,
        "source_row": list(range(2, n + 2)),
    }
    base.update(over)
    return pl.DataFrame(base)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("退款?", "退款编号不是有效的编号(应为15–20位数字): '退款?'"),
        ("0x1F", "退款编号不是有效的编号(应为15–20位数字): '0x1F'"),
        ("NULL", "退款编号不是有效的编号(应为15–20位数字): 'NULL'"),
        ("1" * 30, f"退款编号不是有效的编号(应为15–20位数字): '{'1' * 30}'"),
        ("12345", "退款编号不是有效的编号(应为15–20位数字): '12345'"),
        ("2019 0524 8170", "退款编号不是有效的编号(应为15–20位数字): '2019 0524 8170'"),
    ],
)
def test_refund_ids_that_are_no_ids_are_quarantined_with_the_reason(raw, reason):
    loaded, q, counts = stage_batch("refunds", refunds([GOOD_REFUND, raw]), "2026-10", "r.csv")
    assert loaded["refund_id"].to_list() == [GOOD_REFUND]
    assert q.select("source_file", "source_row", "reason").rows() == [("r.csv", 3, reason)]
    assert raw in q["raw"][0]
    assert counts.balanced and (counts.rows_read, counts.loaded, counts.quarantined) == (2, 1, 1)


def test_excel_mangled_ids_keep_their_specific_reason_and_wrappers_still_unwrap():
    ids = ['="2019052481706674364"', "'2019052481706674365", "2019052481706674366.0", "2.01905E+18", "2019052481706670000"]
    loaded, q, counts = stage_batch("refunds", refunds(ids), "2026-10", "r.xlsx")
    assert loaded["refund_id"].to_list() == ["2019052481706674364", "2019052481706674365", "2019052481706674366"]
    reasons = q["reason"].to_list()
    assert reasons[0].startswith("退款编号被Excel改成科学计数法") and reasons[1].startswith("退款编号超过15位且末尾全是0")
    assert counts.balanced


def test_other_id_columns_have_their_own_shape():
    f = refunds([GOOD_REFUND] * 3, [GOOD_ORDER, "订单1", GOOD_ORDER], alipay_trade_no=["2026100122001096269359815899", None, "abc"])
    loaded, q, counts = stage_batch("refunds", f, "2026-10", "r.csv")
    assert dict(zip(q["source_row"], q["reason"])) == {
        3: "订单编号不是有效的编号(应为15–20位数字): '订单1'",
        4: "支付宝交易号不是有效的编号(应为16–32位数字): 'abc'",
    }
    assert loaded["alipay_trade_no"].to_list() == ["2026100122001096269359815899"] and counts.balanced


def test_supervisor_ids_accept_their_codes_and_reject_placeholders():
    f = pl.DataFrame({
        "complaint_id": ["TS202610001", "NULL", "投诉-3", "#N/A", "a b"], "kind": ["投诉"] * 5,
        "received_at": ["2026-10-05 09:00:00"] * 5, "source_row": [2, 3, 4, 5, 6],
    })  # fmt: skip
    loaded, q, counts = stage_batch("complaints", f, "2026-10", "w.xlsx")
    assert loaded["complaint_id"].to_list() == ["TS202610001", "投诉-3"]
    assert q["source_row"].to_list() == [3, 5, 6] and all(r.startswith("编号不是有效的编号") for r in q["reason"])
    assert counts.balanced


def test_missing_refund_amount_and_unknown_status_are_quarantined():
    f = refunds([GOOD_REFUND, "2019052481706674364", "2019052481706674365"], refund_amount=["1.00", None, "2.00"],
                status=["退款成功", "退款成功", "退款暂停中"])  # fmt: skip
    loaded, q, counts = stage_batch("refunds", f, "2026-10", "r.csv")
    assert dict(zip(q["source_row"], q["reason"])) == {3: "缺少买家退款金额", 4: "退款状态不是允许的值: '退款暂停中'"}
    assert loaded.height == 1 and counts.balanced


# ---------------------------------------------------------------- roster / ratings duplicates


def workbook(path, roster_rows: list[list], ratings_rows: list[list] | None = None):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客服名单"
    ws.append(["客服账号", "姓名", "岗位", "钉钉姓名"])
    for r in roster_rows:
        ws.append(r)
    if ratings_rows is not None:
        ws = wb.create_sheet("主管评分")
        ws.append(["月份", "客服账号", "配合度", "执行力"])
        for r in ratings_rows:
            ws.append(r)
    path.mkdir(parents=True, exist_ok=True)
    wb.save(path / "主管填报表.xlsx")
    return path


def test_disagreeing_duplicate_roster_rows_are_an_error_naming_both_rows(tmp_path):
    inbox = workbook(tmp_path / "in", [["店:甲", "甲", "普通售后客服", None], ["店:乙", "乙", "售后组长", None],
                                       ["店:甲", "甲", "高级售后客服", None]])  # fmt: skip
    with pytest.raises(IngestError) as exc:
        stage_inbox("2026-10", inbox)
    msg = str(exc.value)
    assert "店:甲" in msg and "岗位" in msg
    assert "文件 主管填报表.xlsx 工作表 客服名单 第 2 行" in msg and "文件 主管填报表.xlsx 工作表 客服名单 第 4 行" in msg


def test_disagreeing_duplicate_ratings_are_an_error(tmp_path):
    inbox = workbook(tmp_path / "in", [["店:甲", "甲", "普通售后客服", None]],
                     [["2026-10", "店:甲", "优", "良"], ["2026-10", "店:甲", "差", "良"]])  # fmt: skip
    with pytest.raises(IngestError, match="主管评分 第 2 行 与 .*主管评分 第 3 行"):
        stage_inbox("2026-10", inbox)


def test_identical_duplicate_roster_rows_stay_duplicates(tmp_path):
    inbox = workbook(tmp_path / "in", [["店:甲", "甲", "普通售后客服", None], ["店:甲", "甲", "普通售后客服", None]])
    results, tables, _ = stage_inbox("2026-10", inbox)
    c = results[0].counts["roster"]
    assert tables["roster"].height == 1 and (c.rows_read, c.loaded, c.duplicates) == (2, 1, 1)
