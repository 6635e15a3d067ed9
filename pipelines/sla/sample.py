"""Realistic sample SLA month in the documented workbook layouts, with boundary cases.

``generate_sla("2026-10", out, seed=7)`` writes 服务工单.xlsx, 来电来函记录.xlsx and
备用件台账.xlsx. Random tickets follow the policy mostly (≈90% on time); fixed boundary
tickets (ids ``B-…``) make the interesting cases certain:

  B-ONTIME    车身 80 km, arrived exactly 24 h after the report        → met
  B-LATE1S    车身 80 km, arrived 24 h + 1 s after                     → breached
  B-100KM     车身 exactly 100 km → 24 h on-site rule (arrived 23 h)   → met
  B-100.1KM   车身 100.1 km → 12 h reply rule (replied 13 h)           → breached
  B-SUPPLIER  车身 30 km needing a supplier → 12 h reply rule          → met
  B-OPEN      received 6 h before month end, nobody on site yet        → running
  B-OPENLATE  received 30 h before month end, nobody on site           → breached
  B-SIGN      user signed 2 h before the service was completed        → finding 3.3.2
  B-NOCOMP    closed, signed, but no completion time                   → finding
  B-NODIST    车身 without a distance                                  → finding, no rule
  B-NOREQ     三包 ticket with replaced parts but no requisition        → finding 3.6.1
The clause checks' cases (3.2.3 … 3.8, carried ticket, radius variants, blank team) are
added by :mod:`pipelines.sla.sample_policy`.
Ledger: one part's stocktake is one short (帐物不符), one issued part unapproved, one old
part never returned, one claim open for 90 days.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

from pipelines.staging.sla_schemas import SHEET_NAMES, SLA_TABLES

from .sample_policy import add_policy_fields
from .templates import FILES, write_workbook

TEAMS = {"服务一组": ["王强", "李明", "张伟"], "服务二组": ["刘洋", "陈杰", "赵磊"]}
MODELS = ["XMQ6127", "XMQ6900", "XMQ6602", "XMQ6759"]
CUSTOMERS = ["厦门公交集团", "泉州客运", "漳州旅游客运", "龙岩交运", "福州公交", "莆田汽运", "宁德客运站", "三明公交"]
PARTS = [
    ("P-1001", "前挡风玻璃"), ("P-1002", "车门气泵"), ("P-1003", "后视镜总成"), ("P-2001", "转向拉杆"),
    ("P-2002", "制动分泵"), ("P-3001", "喷油器"), ("P-3002", "水泵总成"), ("P-3003", "发电机皮带"),
]
SUPPLIERS = ["福耀玻璃", "瑞立集团", "玉柴机器", "潍柴动力", "万向钱潮"]

_FMT = "%Y-%m-%d %H:%M:%S"


def _ts(x: datetime | None) -> str | None:
    return x.strftime(_FMT) if x else None


def _d(x: date | None) -> str | None:
    return x.isoformat() if x else None


def _yn(x: bool | None) -> str | None:
    return None if x is None else ("是" if x else "否")


def _month(month: str) -> tuple[datetime, datetime]:
    y, m = (int(v) for v in month.split("-"))
    return datetime(y, m, 1), datetime(y + (m == 12), m % 12 + 1, 1)


def _row(kind: str, rec: dict) -> list:
    return [rec.get(c.name) for c in SLA_TABLES[kind].cols]


def _ticket(tid, received, cat, dist, supplier, staff, team, rng, *, reply=None, written=None, arrived=None,
            completed=None, signed=None, warranty=False, parts=False, score=None, complaint=False, closed=None, status=None):
    if status is None:
        status = "已关闭" if closed else ("已完成" if completed else "处理中")
    return {
        "ticket_id": tid, "received_at": _ts(received), "channel": rng.choice(["电话", "电话", "来函", "上门", "线上"]),
        "customer": rng.choice(CUSTOMERS), "vehicle_model": rng.choice(MODELS), "vehicle_no": f"闽D{rng.randint(10000, 99999)}",
        "fault_category": cat, "distance_km": None if dist is None else f"{dist:g}", "needs_supplier": _yn(supplier),
        "staff": staff, "team": team, "first_reply_at": _ts(reply), "written_contact_at": _ts(written),
        "arrived_at": _ts(arrived), "completed_at": _ts(completed), "signed_at": _ts(signed), "warranty": _yn(warranty),
        "parts_replaced": _yn(parts), "satisfaction": None if score is None else str(score), "complaint": _yn(complaint),
        "status": status, "closed_at": _ts(closed), "note": None,
    }


def _random_ticket(i: int, start: datetime, end: datetime, rng: random.Random) -> dict:
    team = rng.choice(list(TEAMS))
    staff = rng.choice(TEAMS[team])
    span = (end - start).total_seconds() - 3 * 86400  # keep random ones clear of month end
    received = start + timedelta(seconds=int(rng.uniform(0, span)))
    cat = rng.choices(["车身", "底盘", "发动机", "其他"], [50, 20, 20, 10])[0]
    dist = round(rng.choice([rng.uniform(3, 100), rng.uniform(3, 100), rng.uniform(100.5, 320)]), 1)
    supplier = rng.random() < 0.1
    late = rng.random() < 0.08
    h = lambda lo, hi: timedelta(seconds=int(rng.uniform(lo, hi) * 3600))  # noqa: E731
    reply = written = arrived = None
    if cat == "车身" and dist <= 100 and not supplier:
        arrived = received + (h(24.1, 36) if late else h(1, 23.9))
        done_from = arrived
    elif cat == "车身":
        reply = received + (h(12.1, 20) if late else h(0.5, 11.9))
        arrived = reply + h(10, 48)
        done_from = arrived
    elif cat in ("底盘", "发动机"):
        written = received + (h(12.1, 20) if late else h(0.5, 11.9))
        arrived = written + h(4, 40)
        done_from = arrived
    else:
        reply = received + h(1, 30)
        done_from = reply
    completed = done_from + h(1, 8)
    signed = completed + timedelta(minutes=rng.randint(1, 40))
    closed = signed + h(1, 24)
    warranty = rng.random() < 0.6
    parts = warranty and rng.random() < 0.4
    score = rng.choices([5, 4, 3, 2, 1], [52, 36, 8, 3, 1])[0] if rng.random() < 0.7 else None
    return _ticket(f"FW{start:%Y%m}{i:04d}", received, cat, dist, supplier, staff, team, rng, reply=reply, written=written,
                   arrived=arrived, completed=completed, signed=signed, warranty=warranty, parts=parts, score=score,
                   complaint=rng.random() < 0.015, closed=closed)


def _boundary_tickets(start: datetime, end: datetime, rng: random.Random) -> list[dict]:
    t0 = start + timedelta(days=4, hours=9)
    H = lambda x: timedelta(hours=x)  # noqa: E731
    k = dict(rng=rng)
    done = lambda a: dict(completed=a + H(3), signed=a + H(3.5), closed=a + H(5))  # noqa: E731
    return [
        _ticket("B-ONTIME", t0, "车身", 80, False, "王强", "服务一组", arrived=t0 + H(24), **done(t0 + H(24)), score=5, **k),
        _ticket("B-LATE1S", t0, "车身", 80, False, "李明", "服务一组", arrived=t0 + H(24) + timedelta(seconds=1),
                **done(t0 + H(25)), score=3, **k),
        _ticket("B-100KM", t0 + H(1), "车身", 100, False, "张伟", "服务一组", arrived=t0 + H(24), **done(t0 + H(24)), score=4, **k),
        _ticket("B-100.1KM", t0 + H(1), "车身", 100.1, False, "刘洋", "服务二组", reply=t0 + H(14),
                arrived=t0 + H(40), **done(t0 + H(40)), score=4, **k),
        _ticket("B-SUPPLIER", t0 + H(2), "车身", 30, True, "陈杰", "服务二组", reply=t0 + H(8),
                arrived=t0 + H(30), **done(t0 + H(30)), warranty=True, parts=True, score=5, **k),
        _ticket("B-OPEN", end - H(6), "车身", 40, False, "赵磊", "服务二组", **k),
        _ticket("B-OPENLATE", end - H(30), "车身", 60, False, "赵磊", "服务二组", **k),
        _ticket("B-SIGN", t0 + H(30), "底盘", 20, False, "张伟", "服务一组", written=t0 + H(33), arrived=t0 + H(40),
                completed=t0 + H(46), signed=t0 + H(44), closed=t0 + H(47), score=4, **k),
        _ticket("B-NOCOMP", t0 + H(50), "发动机", 55, False, "李明", "服务一组", written=t0 + H(52), arrived=t0 + H(60),
                signed=t0 + H(66), closed=t0 + H(70), status="已关闭", **k),
        _ticket("B-NODIST", t0 + H(70), "车身", None, False, "刘洋", "服务二组", arrived=t0 + H(80), **done(t0 + H(80)), **k),
        _ticket("B-NOREQ", t0 + H(90), "车身", 45, False, "陈杰", "服务二组", arrived=t0 + H(100), **done(t0 + H(100)),
                warranty=True, parts=True, score=5, **k),
    ]


def _calls(start: datetime, end: datetime, rng: random.Random, n: int) -> list[dict]:
    rows = []
    span = (end - start).total_seconds() - 2 * 86400
    staff = [(t, s) for t, ss in TEAMS.items() for s in ss]
    for i in range(n):
        received = start + timedelta(seconds=int(rng.uniform(0, span)))
        team, who = rng.choice(staff)
        late = rng.random() < 0.06
        replied = received + timedelta(seconds=int(rng.uniform(24.2, 40) * 3600 if late else rng.uniform(0.2, 20) * 3600))
        rows.append({
            "call_id": f"LD{start:%Y%m}{i:04d}", "received_at": _ts(received), "kind": rng.choice(["来电", "来电", "来电", "来函"]),
            "customer": rng.choice(CUSTOMERS), "subject": rng.choice(["咨询保养", "故障报修", "配件询价", "投诉服务态度", "三包咨询"]),
            "staff": who, "team": team, "replied_at": _ts(replied), "archived": _yn(rng.random() < 0.93), "ticket_id": None,
        })
    return sorted(rows, key=lambda r: r["received_at"])


def _ledger(start: datetime, end: datetime, tickets: list[dict], rng: random.Random) -> dict[str, list[dict]]:
    d0, last = start.date(), (end - timedelta(days=1)).date()
    opening = {p: rng.randint(4, 20) for p, _ in PARTS}
    names = dict(PARTS)
    receipts, reqs, rets = [], [], []
    for i, (p, name) in enumerate(PARTS):
        if rng.random() < 0.7:
            receipts.append({"receipt_id": f"JS{start:%Y%m}{i:03d}", "received_on": _d(d0 + timedelta(days=rng.randint(0, 20))),
                             "part_id": p, "part_name": name, "quantity": str(rng.randint(2, 10)), "supplier": rng.choice(SUPPLIERS), "handler": "库管 周敏"})
    n = 0
    for t in tickets:
        if t["parts_replaced"] != "是" or t["ticket_id"] == "B-NOREQ" or not t["completed_at"]:
            continue
        n += 1
        p = rng.choice(PARTS)[0]
        issued = datetime.strptime(t["received_at"], _FMT).date()
        rid = f"LL{start:%Y%m}{n:03d}"
        unapproved = n == 2
        reqs.append({"requisition_id": rid, "requested_on": _d(issued), "part_id": p, "part_name": names[p], "quantity": "1",
                     "ticket_id": t["ticket_id"], "staff": t["staff"], "approver": None if unapproved else "服务科长 林峰",
                     "approval": "待审批" if unapproved else "已批准", "issued_on": _d(issued), "warranty": "是"})
        if n != 3:  # the third replaced part's old part never comes back
            rets.append({"return_id": f"FH{start:%Y%m}{n:03d}", "returned_on": _d(min(issued + timedelta(days=rng.randint(1, 12)), last)),
                         "part_id": p, "part_name": names[p], "quantity": "1", "ticket_id": t["ticket_id"], "requisition_id": rid, "staff": t["staff"]})
    # an old requisition from two months ago whose old part was never returned
    old = d0 - timedelta(days=45)
    reqs.append({"requisition_id": f"LL{old:%Y%m}900", "requested_on": _d(old), "part_id": "P-3001", "part_name": names["P-3001"],
                 "quantity": "1", "ticket_id": f"FW{old:%Y%m}0042", "staff": "赵磊", "approver": "服务科长 林峰", "approval": "已批准",
                 "issued_on": _d(old), "warranty": "是"})
    for r in reqs:  # enough opening stock for everything issued this month
        opening[r["part_id"]] += int(r["quantity"])
    moved = {p: opening[p] for p, _ in PARTS}
    for r in receipts:
        moved[r["part_id"]] += int(r["quantity"])
    for r in reqs:
        if r["issued_on"] and d0 <= date.fromisoformat(r["issued_on"]) <= last:
            moved[r["part_id"]] -= int(r["quantity"])
    short = PARTS[1][0]  # 车门气泵: one missing on the shelf
    stock = [{"counted_on": _d(last), "part_id": p, "part_name": name, "opening_qty": str(opening[p]), "book_qty": str(moved[p]),
              "counted_qty": str(moved[p] - (1 if p == short else 0)), "counter": "库管 周敏"} for p, name in PARTS]
    claims = []
    for i in range(5):
        filed = d0 + timedelta(days=rng.randint(0, 25))
        closed = rng.random() < 0.5
        claims.append({"claim_id": f"SP{start:%Y%m}{i:02d}", "supplier": rng.choice(SUPPLIERS), "part_id": PARTS[i][0],
                       "part_name": PARTS[i][1], "ticket_id": None, "amount": f"{rng.randint(200, 5000)}.{rng.randint(0, 99):02d}",
                       "filed_on": _d(filed), "status": "已结案" if closed else "处理中",
                       "closed_on": _d(min(filed + timedelta(days=rng.randint(3, 20)), last)) if closed else None})
    claims.append({"claim_id": "SP-OLD90", "supplier": "玉柴机器", "part_id": "P-3001", "part_name": names["P-3001"], "ticket_id": None,
                   "amount": "3860.50", "filed_on": _d(last - timedelta(days=90)), "status": "处理中", "closed_on": None})
    return {"sla_part_receipts": receipts, "sla_part_requisitions": reqs, "sla_part_returns": rets, "sla_stocktakes": stock, "sla_claims": claims}


def generate_sla(month: str, out: Path | str, seed: int = 7, n_tickets: int = 240, n_calls: int = 90) -> list[Path]:
    """Write a sample SLA month (three workbooks) into ``out``; returns the file paths."""
    rng = random.Random(seed)
    start, end = _month(month)
    tickets = [_random_ticket(i + 1, start, end, rng) for i in range(n_tickets)] + _boundary_tickets(start, end, rng)
    tickets.sort(key=lambda t: t["received_at"])
    staff = [{"staff": who, "team": team} for team, people in TEAMS.items() for who in people]
    data = {"sla_tickets": tickets, "sla_staff": staff, "sla_calls": _calls(start, end, rng, n_calls), **_ledger(start, end, tickets, rng)}
    add_policy_fields(data, start, random.Random(seed * 1000 + 12))  # issue-12 clause columns, own random stream
    out = Path(out)
    paths = []
    for stem, kinds in FILES.items():
        sheets = {SHEET_NAMES[k]: [_row(k, r) for r in data[k]] for k in kinds}
        paths.append(write_workbook(out / f"{stem}.xlsx", sheets, {SHEET_NAMES[k]: k for k in kinds}))
    return paths
