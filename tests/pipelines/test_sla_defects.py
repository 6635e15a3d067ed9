"""Issue 12 defects: a clock crossing a month end, radius as people write it, one team per person."""

from pathlib import Path

import polars as pl

from pipelines.sla.run import run_sla
from pipelines.sla_job import run_sla_month

RULES_TEXT = (Path(__file__).parents[2] / "data" / "sla_rules.yaml").read_text(encoding="utf-8")
HEAD = "工单编号,报修时间,故障类别,服务半径(km),服务人员,服务组,到达现场时间,工单状态\n"


def inbox(tmp_path: Path, name: str, rows: str) -> Path:
    d = tmp_path / name
    d.mkdir()
    (d / "服务工单.csv").write_text(HEAD + rows, encoding="utf-8")
    return d


def overall(res) -> dict:
    return res.sla_month.filter(pl.col("level") == "all").row(0, named=True)


# --- (a) a clock crossing the month end is counted in exactly one month


def test_reexported_open_ticket_is_breached_in_the_month_its_deadline_passes(tmp_path):
    rows = "SEP-LATE,2026-09-30 22:00,车身,50,王强,服务一组,,处理中\n"
    sep = run_sla("2026-09", inbox(tmp_path, "sep", rows), None, RULES_TEXT)
    assert sep.ticket_sla.select("record_id", "status").rows() == [("SEP-LATE", "running")]
    assert (overall(sep)["timed"], overall(sep)["running"]) == (0, 1)
    oct_ = run_sla("2026-10", inbox(tmp_path, "oct", rows), None, RULES_TEXT)
    f = oct_.files[0]
    assert (f["loaded"], f["out_of_month"]) == (1, 0)
    assert oct_.ticket_sla.select("record_id", "status", "decided_month").rows() == [("SEP-LATE", "breached", "2026-10")]
    o = overall(oct_)
    assert (o["timely"], o["timed"], o["tickets"]) == (0, 1, 0)  # received in Sep: not an October ticket
    nov = run_sla("2026-11", inbox(tmp_path, "nov", rows), None, RULES_TEXT)
    assert overall(nov)["timed"] == 0 and nov.ticket_sla.height == 0  # decided in Oct, never again


def test_completed_ticket_from_an_earlier_month_stays_out_of_month(tmp_path):
    d = tmp_path / "oct"
    d.mkdir()
    (d / "工单.csv").write_text(
        "工单编号,报修时间,故障类别,服务半径(km),服务人员,到达现场时间,服务完成时间\n"
        "SEP-DONE,2026-09-10 08:00,车身,50,王强,2026-09-10 12:00,2026-09-10 15:00\n"
        "SEP-NOARR,2026-09-30 22:00,车身,50,王强,,2026-09-30 23:00\n",
        encoding="utf-8",
    )
    res = run_sla("2026-10", d, None, RULES_TEXT)
    assert (res.files[0]["loaded"], res.files[0]["out_of_month"]) == (0, 2)
    assert res.ticket_sla.height == 0


def test_open_ticket_loaded_only_last_month_is_carried_from_the_warehouse(tmp_path):
    wh = tmp_path / "w.duckdb"
    sep_rows = (
        "SEP-LATE,2026-09-30 22:00,车身,50,王强,服务一组,,处理中\n"
        "SEP-OK,2026-09-30 20:00,车身,50,李明,服务一组,2026-09-30 23:00,处理中\n"
    )
    s = run_sla_month("2026-09", inbox(tmp_path, "sep", sep_rows), wh, out=tmp_path / "out")
    assert overall(s.results)["timed"] == 1  # SEP-OK met in Sep; SEP-LATE running
    oct_rows = "OCT-1,2026-10-05 08:00,车身,50,李明,服务一组,2026-10-05 10:00,处理中\n"  # SEP-LATE not re-exported
    o = run_sla_month("2026-10", inbox(tmp_path, "oct", oct_rows), wh, out=tmp_path / "out")
    got = o.results.ticket_sla.select("record_id", "status", "decided_month").sort("record_id").rows()
    assert got == [("OCT-1", "met", "2026-10"), ("SEP-LATE", "breached", "2026-10")]
    ov = overall(o.results)
    assert (ov["timely"], ov["timed"]) == (1, 2)
    by_staff = {r["staff"]: (r["timely"], r["timed"]) for r in o.results.sla_month.filter(pl.col("level") == "staff").iter_rows(named=True)}
    assert by_staff == {"王强": (0, 1), "李明": (1, 1)}


def test_reexported_row_wins_over_the_warehouse_version(tmp_path):
    wh = tmp_path / "w.duckdb"
    run_sla_month("2026-09", inbox(tmp_path, "sep", "SEP-LATE,2026-09-30 22:00,车身,50,王强,服务一组,,处理中\n"), wh, out=tmp_path / "out")
    # re-exported with the arrival now filled in (October, on time)
    o = run_sla_month("2026-10", inbox(tmp_path, "oct", "SEP-LATE,2026-09-30 22:00,车身,50,王强,服务一组,2026-10-01 09:00,处理中\n"), wh, out=tmp_path / "out")
    assert o.results.ticket_sla.select("record_id", "status").rows() == [("SEP-LATE", "met")]
    assert (overall(o.results)["timely"], overall(o.results)["timed"]) == (1, 1)


# --- (b) radius as people write it


def test_radius_with_units_full_width_digits_and_approximations(tmp_path):
    vals = {"R1": "100km", "R2": "100 公里", "R3": "１００公里", "R4": "约80km", "R5": "80-100公里", "R6": "100.1 KM", "R7": "很远"}
    rows = "".join(f'{k},2026-10-05 08:00,车身,"{v}",王强,服务一组,2026-10-05 20:00,处理中\n' for k, v in vals.items())
    res = run_sla("2026-10", inbox(tmp_path, "oct", rows), None, RULES_TEXT)
    got = dict(res.staged["sla_tickets"].select("ticket_id", "distance_km").iter_rows())
    assert got == {"R1": 100.0, "R2": 100.0, "R3": 100.0, "R4": 80.0, "R5": 100.0, "R6": 100.1}
    assert res.quarantine["reason"].to_list() == ["服务半径(km)无法解析: '很远'"]
    rules = dict(res.ticket_sla.select("record_id", "rule_id").iter_rows())
    assert rules["R1"] == "body_onsite_24h" and rules["R6"] == "body_reply_12h"


# --- (c) one team per person


def test_blank_team_on_one_row_does_not_split_a_person(tmp_path):
    rows = (
        "T1,2026-10-05 08:00,车身,50,王强,服务一组,2026-10-05 10:00,处理中\n"
        "T2,2026-10-06 08:00,车身,50,王强,,2026-10-06 10:00,处理中\n"
        "T3,2026-10-07 08:00,车身,50,王强,服务一组,2026-10-08 10:00,处理中\n"
    )
    res = run_sla("2026-10", inbox(tmp_path, "oct", rows), None, RULES_TEXT)
    staff = res.sla_month.filter(pl.col("level") == "staff").select("team", "staff", "timely", "timed").rows()
    assert staff == [("服务一组", "王强", 2, 3)]
    assert res.sla_month.filter(pl.col("level") == "team")["team"].to_list() == ["服务一组"]


def test_staff_list_decides_the_team(tmp_path):
    d = inbox(tmp_path, "oct", "T1,2026-10-05 08:00,车身,50,王强,,2026-10-05 10:00,处理中\nT2,2026-10-06 08:00,车身,50,王强,服务一组,2026-10-06 10:00,处理中\n")
    (d / "人员.csv").write_text("服务人员,服务组\n王强,服务二组\n", encoding="utf-8")
    res = run_sla("2026-10", d, None, RULES_TEXT)
    assert res.sla_month.filter(pl.col("level") == "staff").select("team", "staff", "timed").rows() == [("服务二组", "王强", 2)]


def test_old_workbook_loads_and_new_checks_are_reported_not_run(tmp_path):
    rows = "T1,2026-10-05 08:00,发动机,50,王强,服务一组,2026-10-05 10:00,已完成\n"
    res = run_sla("2026-10", inbox(tmp_path, "oct", rows), None, RULES_TEXT)
    assert res.files[0]["loaded"] == 1 and res.quarantine.height == 0
    st = dict(res.checks.select("check", "status").iter_rows())
    assert st["contact_archive_feedback"] == st["report_approval_archive"] == st["supplier_parts_unclaimed"] == "未检查"
    assert st["courtesy"] == "未检查" and st["signature_before_completion"] == "已检查"
    assert "已检查" not in {st[c] for c in ("fee_approval_remittance", "major_issue_reported", "old_part_brought_back", "reply_archive_time")}
    assert any("未检查" in n for n in res.notes)
    assert "未检查" in res.tables()["sla_checks"]["status"].to_list()


def test_unanswered_call_crossing_the_month_end_is_counted_once(tmp_path):
    def calls_inbox(name, rows):
        d = tmp_path / name
        d.mkdir()
        (d / "来电.csv").write_text("记录编号,来电来函时间,类型,处理人,服务组,答复时间\n" + rows, encoding="utf-8")
        return d

    row = "C-SEP,2026-09-30 23:00,来电,王强,服务一组,\n"
    sep = run_sla("2026-09", calls_inbox("sep", row), None, RULES_TEXT)
    assert sep.ticket_sla.select("record_id", "status").rows() == [("C-SEP", "running")]
    oct_ = run_sla("2026-10", calls_inbox("oct", row), None, RULES_TEXT)  # re-exported, still unanswered
    assert oct_.ticket_sla.select("record_id", "status", "decided_month").rows() == [("C-SEP", "breached", "2026-10")]
    assert (overall(oct_)["timely"], overall(oct_)["timed"]) == (0, 1)
    # only loaded in September: carried from the warehouse
    wh = tmp_path / "w.duckdb"
    run_sla_month("2026-09", calls_inbox("sep2", row), wh, out=tmp_path / "out")
    o = run_sla_month("2026-10", calls_inbox("oct2", "C-OCT,2026-10-03 09:00,来电,王强,服务一组,2026-10-03 10:00\n"), wh, out=tmp_path / "out")
    got = o.results.ticket_sla.select("record_id", "status").sort("record_id").rows()
    assert got == [("C-OCT", "met"), ("C-SEP", "breached")]
