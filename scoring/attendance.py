"""Item 出勤率 from DingTalk day statuses (fallback: the DingTalk monthly summary).

Each day cell is split on separators; each part takes the category of the LONGEST status
key of ``status_map`` it contains (so 旷工迟到 is late, 上班缺卡 is missing_punch). A
category counts once per day; categories in ``merge_consecutive`` count once per run of
consecutive working days (days that are only 休息 or blank do not break a run).
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from scoring.inputs import month_days
from scoring.model import ItemScore, fmt

_SEP = r"[,，;；、/\s]+"
CATEGORY_LABELS = {
    "late": "迟到",
    "leave": "请假",
    "absent": "旷工",
    "early": "早退",
    "missing_punch": "缺卡",
    "other_leave": "其他假",
}


def classify_days(attendance: pl.DataFrame, status_map: dict[str, str]) -> pl.DataFrame:
    """One row per (dingtalk_name, day, category) with the status text; unknown → 'unknown'."""
    keys = sorted(status_map, key=len, reverse=True)
    cat = pl.when(pl.lit(False)).then(pl.lit(None, dtype=pl.String))
    for k in keys:
        cat = cat.when(pl.col("part").str.contains(k, literal=True)).then(pl.lit(status_map[k]))
    cat = cat.otherwise(pl.lit("unknown"))
    return (
        attendance.select(
            "dingtalk_name", "day", pl.col("status").fill_null("").str.replace_all(_SEP, "|").str.split("|").alias("part")
        )
        .explode("part")
        .with_columns(pl.col("part").str.strip_chars())
        .filter(pl.col("part").is_not_null() & (pl.col("part") != ""))
        .with_columns(category=cat)
        .group_by("dingtalk_name", "day", "category")
        .agg(status=pl.col("part").unique(maintain_order=True).str.join(","))
    )


def count_events(classified: pl.DataFrame, merge: tuple[str, ...]) -> pl.DataFrame:
    """Per (dingtalk_name, category): ``events`` and the ``days`` involved.

    Merged categories: a run of consecutive working days with the category is one event."""
    day_cats = classified.group_by("dingtalk_name", "day").agg(cats=pl.col("category"))
    working = day_cats.filter(~pl.col("cats").list.eval(pl.element() == "rest").list.all()).sort("dingtalk_name", "day")
    frames = []
    for c in merge:
        flag = pl.col("cats").list.contains(c)
        runs = working.with_columns(_f=flag).with_columns(
            _start=pl.col("_f") & ~pl.col("_f").shift(1).over("dingtalk_name").fill_null(False)
        )
        frames.append(
            runs.filter(pl.col("_f"))
            .group_by("dingtalk_name")
            .agg(events=pl.col("_start").sum().cast(pl.Int64), days=pl.col("day").sort())
            .with_columns(category=pl.lit(c))
        )
    plain = (
        classified.filter(~pl.col("category").is_in(list(merge)))
        .group_by("dingtalk_name", "category")
        .agg(events=pl.len().cast(pl.Int64), days=pl.col("day").unique().sort())
    )
    cols = ["dingtalk_name", "category", "events", "days"]
    return pl.concat([plain.select(cols)] + [f.select(cols) for f in frames])


def attendance_scores(agents, roster: pl.DataFrame, attendance: pl.DataFrame, summary: pl.DataFrame, rules, month: str):
    """One :class:`ItemScore` per agent for item ``attendance``."""
    item = rules.items.attendance
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
        penalty = sum((item.penalties.get(c, Decimal(0)) * n for c, n in counts.items()), Decimal(0))
        score.points = max(item.floor, item.max_points - penalty)
        shown = [f"{CATEGORY_LABELS[c]}{counts[c]}次" for c in CATEGORY_LABELS if counts.get(c)]
        score.raw_value = (", ".join(shown) or "全勤") + f"; 扣{fmt(penalty)}"
    return out
