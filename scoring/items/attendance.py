"""Item 出勤率 from DingTalk day statuses (fallback: the DingTalk monthly summary).

Day cells are mapped by :mod:`scoring.attendance` (longest status key wins, merged runs)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import polars as pl
from pydantic import field_validator

from scoring.attendance import CATEGORY_LABELS, classify_days, count_events
from scoring.inputs import month_days
from scoring.items.base import ItemContext, ItemResult, KpiItem
from scoring.model import ItemScore, fmt
from scoring.rules.model import ItemRules, Points

AttendanceCategory = Literal["ok", "rest", "late", "leave", "absent", "early", "missing_punch", "other_leave"]


class AttendanceRules(ItemRules):
    """Rules block ``items.attendance``."""

    floor: Points = Decimal(0)
    # DingTalk status text -> category. A cell is split on , ， ; ； 、 / and whitespace;
    # each part takes the category of the LONGEST key it contains (旷工迟到 beats 旷工).
    status_map: dict[str, AttendanceCategory]
    # points deducted per counted event of a category; categories not listed deduct nothing
    penalties: dict[AttendanceCategory, Points]
    # categories whose runs of consecutive working days count as ONE event (rest days bridge)
    merge_consecutive: tuple[AttendanceCategory, ...] = ("leave",)
    unknown_status: Literal["incomplete", "ignore"] = "incomplete"

    @field_validator("status_map")
    @classmethod
    def _non_empty_keys(cls, v: dict) -> dict:
        for k in v:
            if not k.strip():
                raise ValueError("status_map: empty status text")
        return v

    @field_validator("penalties")
    @classmethod
    def _non_negative(cls, v: dict) -> dict:
        for k, p in v.items():
            if p < 0:
                raise ValueError(f"{k}: a penalty is points deducted and must not be negative (got {p})")
        return v


def attendance_scores(ctx: ItemContext, item: AttendanceRules) -> ItemResult:
    """One :class:`ItemScore` per agent for item ``attendance``."""
    agents, month, roster = ctx.agents, ctx.month, ctx.inputs.roster
    attendance, summary = ctx.inputs.attendance, ctx.inputs.attendance_summary
    first, last, _ = month_days(month)
    days = attendance.filter(pl.col("day").is_between(first, last))
    classified = classify_days(days, item.status_map)
    events = count_events(classified, tuple(item.merge_consecutive))
    unknown = classified.filter(pl.col("category") == "unknown")
    people = {
        r["agent_account"]: (r["dingtalk_name"] or r["name"]) for r in roster.select("agent_account", "dingtalk_name", "name").to_dicts()
    }
    with_days = set(days["dingtalk_name"].unique().to_list())
    summ = {r["dingtalk_name"]: r for r in summary.to_dicts()}
    rule = (
        f"全勤{fmt(item.max_points)}; "
        + ", ".join(f"{CATEGORY_LABELS.get(c, c)}每次-{fmt(p)}" for c, p in item.penalties.items())
        + f"; 最低{fmt(item.floor)}; 连续合并: {','.join(CATEGORY_LABELS.get(c, c) for c in item.merge_consecutive)}"
    )
    out: dict[str, ItemScore] = {}
    for agent in agents:
        who = people.get(agent)
        score = ItemScore(agent, "attendance", item.label, None, source="钉钉考勤", rule=rule)
        out[agent] = score
        if who is None:
            score.missing.append(f"{item.label}: 不在客服名单, 无法对应钉钉姓名")
            continue
        counts: dict[str, int] = {}
        if who in with_days:
            mine = events.filter(pl.col("dingtalk_name") == who)
            cited: set = set()
            for r in mine.iter_rows(named=True):
                counts[r["category"]] = r["events"]
                if r["category"] not in ("ok", "rest"):
                    cited.update(r["days"])
            score.evidence_ids = [f"attendance:{who}:{d.isoformat()}" for d in sorted(cited)]
            bad = unknown.filter(pl.col("dingtalk_name") == who).sort("day")
            if bad.height and item.unknown_status == "incomplete":
                score.missing.append(
                    f"{item.label}: 无法识别的考勤状态 "
                    + ", ".join(f"{d:%m-%d} {s}" for d, s in zip(bad["day"], bad["status"]))
                    + " (请在规则 status_map 中补充)"
                )
            score.source = "钉钉考勤(逐日)"
        elif who in summ:
            s = summ[who]
            if (s.get("leave_days") or 0) > 0 and "leave" in item.merge_consecutive:
                score.missing.append(f"{item.label}: 只有钉钉汇总(请假 {s['leave_days']} 天), 无逐日状态无法合并连续请假, 请导入逐日考勤")
            counts = {
                "late": (s.get("late_count") or 0) + (s.get("severe_late_count") or 0) + (s.get("absent_late_count") or 0),
                "absent": int(Decimal(repr(s.get("absent_days") or 0)).to_integral_value(rounding="ROUND_CEILING")),
                "early": s.get("early_count") or 0,
                "missing_punch": (s.get("missing_in_count") or 0) + (s.get("missing_out_count") or 0),
                "leave": int(Decimal(repr(s.get("leave_days") or 0)).to_integral_value(rounding="ROUND_CEILING")),
            }
            score.source = "钉钉考勤(月汇总)"
            score.evidence_ids.append(f"attendance_summary:{who}")
        else:
            score.missing.append(f"{item.label}: 钉钉考勤中没有 {who}")
            continue
        penalties: dict[str, Decimal] = {str(c): p for c, p in item.penalties.items()}
        penalty = sum((penalties.get(c, Decimal(0)) * n for c, n in counts.items()), Decimal(0))
        score.points = max(item.floor, item.max_points - penalty)
        shown = [f"{CATEGORY_LABELS[c]}{counts[c]}次" for c in CATEGORY_LABELS if counts.get(c)]
        score.raw_value = (", ".join(shown) or "全勤") + f"; 扣{fmt(penalty)}"
    return ItemResult(out)


ITEM = KpiItem(key="attendance", label="出勤率", rules_model=AttendanceRules, score=attendance_scores)
