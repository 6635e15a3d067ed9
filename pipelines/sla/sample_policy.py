"""Sample data for the clause checks of issue 12 (3.2.3 … 3.8), added to the generated
records with their own random stream, so the base sample stays as it was.

Mostly compliant values, plus fixed cases at the edges (ids in the base sample):
  3.2.3  B-SIGN contact archived/fed back exactly 24 h after (ok); B-NOCOMP fed back 24 h + 1 s (finding)
  3.3.4  B-FEE (new ticket) fee 200.00, no approver, 150.00 remitted (finding); random fees approved, remitted in full
  3.3.5  B-RUDE (new ticket) report says 不知道, customer comment 态度差 要投诉; one call reply 我也没办法
  3.4.3  B-ONTIME report approved/archived exactly 3 days after return (ok); B-LATE1S archived 3 d + 1 s (finding)
  3.4.2  B-100.1KM 较大问题 never reported (finding); B-SUPPLIER old part not brought back (finding)
  3.5.1  one call logged out of time order; 3.5.4 one reply archived 24 h + 1 s after (finding), one exactly 24 h (ok)
  3.6.1  one part issued the day before its approval; 3.6.2 one write-off without the leader's consent
  3.6.3  one mailed part's freight without the leader's signature
  3.7.5  an old part returned last month never processed (finding), one processed on the due day (ok)
  3.7.6  泉州服务站 ledger one short (帐物不符); a part sent to 龙岩服务站, which has no ledger
  3.8    supplier-fault parts, one older than 30 days without a claim; closed claims with recovered amounts
  (c)    B-NOTEAM: 王强 with a blank 服务组; (a) B-CARRY received last month, open, breached this month
  (b)    radius written as 100 km / １００公里 / 约N公里 on some tickets
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

_FMT = "%Y-%m-%d %H:%M:%S"
REPORTS = ["检查发现{}故障, 已修复并试车正常", "更换{}后试车正常, 向用户讲解了日常保养要点", "调整{}, 故障排除, 提醒用户定期检查"]
COMPONENTS = ["车门气泵", "制动分泵", "水泵", "发电机皮带", "后视镜", "喷油器"]
COMMENTS = ["服务很好", "师傅很耐心", "处理及时", "满意", "来得有点慢"]
REPLIES = ["已安排服务人员联系您", "已登记, 24小时内回复", "您好, 保养周期为每五千公里", "配件已寄出, 请注意查收"]


def _t(s: str | None) -> datetime | None:
    return datetime.strptime(s, _FMT) if s else None


def _ts(x: datetime | None) -> str | None:
    return x.strftime(_FMT) if x else None


def _h(rng: random.Random, lo: float, hi: float) -> timedelta:
    return timedelta(seconds=int(rng.uniform(lo, hi) * 3600))


def _ticket_fields(t: dict, rng: random.Random) -> None:
    written, arrived, completed = _t(t["written_contact_at"]), _t(t["arrived_at"]), _t(t["completed_at"])
    if written:
        t["contact_archived_at"] = _ts(written + _h(rng, 0.5, 20))
        t["feedback_at"] = _ts(written + _h(rng, 1, 22))
    if completed:
        back = completed + _h(rng, 2, 30)
        approved = back + _h(rng, 2, 40)
        t.update(returned_at=_ts(back), report_approved_at=_ts(approved), report_archived_at=_ts(approved + _h(rng, 0.5, 8)))
        t["report_text"] = rng.choice(REPORTS).format(rng.choice(COMPONENTS))
        if rng.random() < 0.4:
            t["customer_comment"] = rng.choice(COMMENTS)
    if t["parts_replaced"] == "是" and completed:
        t["old_part_back"] = "是"
    major = rng.random() < 0.05 and arrived is not None
    t["major_issue"] = "是" if major else "否"
    if major:
        t["leader_reported_at"] = _ts(arrived + _h(rng, 1, 20))
    if t["warranty"] == "否" and completed and rng.random() < 0.15:
        fee = f"{rng.randint(80, 600)}.00"
        t.update(fee_amount=fee, fee_approver="服务科长 林峰", fee_remitted=fee)


def _edge_tickets(by_id: dict[str, dict], start: datetime, base: dict) -> list[dict]:
    def H(x):
        return timedelta(hours=x)

    for tid in ("B-SIGN", "B-NOCOMP"):
        w = _t(by_id[tid]["written_contact_at"])
        by_id[tid].update(contact_archived_at=_ts(w + H(24)), feedback_at=_ts(w + H(24) + timedelta(seconds=tid == "B-NOCOMP")))
    for tid, extra in (("B-ONTIME", 0), ("B-LATE1S", 1)):
        back = _t(by_id[tid]["completed_at"]) + H(2)
        by_id[tid].update(returned_at=_ts(back), report_approved_at=_ts(back + H(72)), report_archived_at=_ts(back + H(72) + timedelta(seconds=extra)))
    by_id["B-100.1KM"].update(major_issue="是", leader_reported_at=None)
    by_id["B-SUPPLIER"].update(old_part_back="否")
    by_id["B-100KM"]["distance_km"] = "１００公里"
    by_id["B-ONTIME"]["distance_km"] = "80 km"
    t0 = start + timedelta(days=6, hours=10)
    new = []
    fee = dict(base, ticket_id="B-FEE", received_at=_ts(t0), fault_category="其他", distance_km="约30公里", staff="刘洋", team="服务二组",
               first_reply_at=_ts(t0 + H(2)), arrived_at=_ts(t0 + H(5)), completed_at=_ts(t0 + H(7)), signed_at=_ts(t0 + H(7.5)),
               status="已完成", warranty="否", fee_amount="200.00", fee_remitted="150.00", report_text="更换灯泡, 收取材料费")
    rude = dict(base, ticket_id="B-RUDE", received_at=_ts(t0 + H(3)), fault_category="车身", distance_km="60", staff="赵磊", team="服务二组",
                arrived_at=_ts(t0 + H(20)), completed_at=_ts(t0 + H(22)), signed_at=_ts(t0 + H(22.5)), status="已完成",
                report_text="用户问空调为什么不制冷, 我不知道, 让他自己去问厂家", customer_comment="态度差, 要投诉")
    noteam = dict(base, ticket_id="B-NOTEAM", received_at=_ts(t0 + H(5)), fault_category="车身", distance_km="25公里", staff="王强", team=None,
                  arrived_at=_ts(t0 + H(9)), completed_at=_ts(t0 + H(11)), signed_at=_ts(t0 + H(11.2)), status="已完成")
    carry = dict(base, ticket_id="B-CARRY", received_at=_ts(start - H(2)), fault_category="车身", distance_km="50", staff="李明", team="服务一组",
                 status="处理中")
    new += [fee, rude, noteam, carry]
    return new


def _call_fields(calls: list[dict], rng: random.Random) -> None:
    for c in calls:
        c["reply_text"] = rng.choice(REPLIES)
        if c["archived"] == "是":
            c["archived_at"] = _ts(_t(c["replied_at"]) + _h(rng, 0.1, 20))
    calls[3]["reply_text"] = "这个问题我也没办法, 您等通知吧"
    for c, extra in ((calls[5], 1), (calls[6], 0)):
        c.update(archived="是", archived_at=_ts(_t(c["replied_at"]) + timedelta(hours=24, seconds=extra)))
    calls[10], calls[11] = calls[11], calls[10]  # logged out of time order (3.5.1)


def _parts_fields(data: dict, start: datetime, rng: random.Random) -> None:
    d0 = start.date()
    reqs, rets, claims = data["sla_part_requisitions"], data["sla_part_returns"], data["sla_claims"]
    returned = {r["requisition_id"] for r in rets}
    for i, r in enumerate(reqs):
        if r["approval"] == "已批准":
            r["approved_on"] = r["requested_on"]
        if r["requisition_id"] in returned:
            ret = next(x for x in rets if x["requisition_id"] == r["requisition_id"])
            r.update(written_off_on=ret["returned_on"], writeoff_approver="服务科长 林峰")
        if i % 3 == 0:
            r["fault_supplier"] = rng.choice(["福耀玻璃", "瑞立集团", "玉柴机器"])
    approved = [r for r in reqs if r["approval"] == "已批准" and r["issued_on"] and r["requisition_id"] in returned]
    approved[0]["approved_on"] = (date.fromisoformat(approved[0]["issued_on"]) + timedelta(days=1)).isoformat()  # issued before approval
    approved[1]["writeoff_approver"] = None  # write-off without the leader's consent
    approved[2].update(mailed="是", shipping_fee="35.00", handler_signed="周敏", leader_signed=None)
    approved[3].update(mailed="是", shipping_fee="28.50", handler_signed="周敏", leader_signed="林峰")
    approved[4]["station"] = "泉州服务站"
    approved[5]["station"] = "龙岩服务站"  # no separate ledger for it
    for r in rets:
        r.update(processed_on=r["returned_on"], processing=rng.choice(["返厂", "报废"]))
    # last month's old parts: one processed on its due day (the 10th), one never processed
    prev = d0 - timedelta(days=20)
    for k, (pid, done) in enumerate((("P-2001", d0 + timedelta(days=9)), ("P-2002", None))):
        rid = f"LL{prev:%Y%m}9{k + 10}"
        reqs.append({"requisition_id": rid, "requested_on": prev.isoformat(), "part_id": pid, "quantity": "1", "ticket_id": f"FW{prev:%Y%m}00{k + 50}",
                     "staff": "张伟", "approver": "服务科长 林峰", "approval": "已批准", "issued_on": prev.isoformat(), "warranty": "是",
                     "approved_on": prev.isoformat()})
        rets.append({"return_id": f"FH{prev:%Y%m}9{k + 10}", "returned_on": (prev + timedelta(days=2)).isoformat(), "part_id": pid, "quantity": "1",
                     "ticket_id": f"FW{prev:%Y%m}00{k + 50}", "requisition_id": rid, "staff": "张伟",
                     "processed_on": done.isoformat() if done else None, "processing": "返厂" if done else None})
    old = next(r for r in reqs if r["requisition_id"].endswith("900"))
    old["fault_supplier"] = "玉柴机器"  # 45 days old, never claimed
    for r in reqs:  # claim most supplier-fault parts issued this month
        if r.get("fault_supplier") and r is not old and r["issued_on"] and date.fromisoformat(r["issued_on"]) >= d0:
            claims.append({"claim_id": f"SP-{r['requisition_id']}", "supplier": r["fault_supplier"], "part_id": r["part_id"],
                           "part_name": r.get("part_name"), "ticket_id": r["ticket_id"], "amount": f"{rng.randint(300, 3000)}.00",
                           "filed_on": r["issued_on"], "status": "处理中", "closed_on": None})
    for c in claims:
        if c["status"] == "已结案":
            c["recovered_amount"] = c["amount"]
    data["sla_station_stock"] = [
        {"station": "泉州服务站", "counted_on": (d0 + timedelta(days=27)).isoformat(), "part_id": "P-1001", "part_name": "前挡风玻璃",
         "opening_qty": "3", "sent_qty": "2", "used_qty": "1", "returned_qty": "0", "book_qty": "4", "counted_qty": "4"},
        {"station": "泉州服务站", "counted_on": (d0 + timedelta(days=27)).isoformat(), "part_id": "P-2002", "part_name": "制动分泵",
         "opening_qty": "5", "sent_qty": "1", "used_qty": "2", "returned_qty": "1", "book_qty": "3", "counted_qty": "2"},
    ]


def add_policy_fields(data: dict[str, list[dict]], start: datetime, rng: random.Random) -> None:
    """Fill the issue-12 columns of the generated records in place (see module doc)."""
    tickets = data["sla_tickets"]
    for t in tickets:
        _ticket_fields(t, rng)
    by_id = {t["ticket_id"]: t for t in tickets}
    base = {k: None for k in tickets[0]}
    tickets.extend(_edge_tickets(by_id, start, base))
    tickets.sort(key=lambda t: t["received_at"])
    _call_fields(data["sla_calls"], rng)
    _parts_fields(data, start, rng)
