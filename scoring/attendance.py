"""DingTalk day statuses → categories and counted events, for the item 出勤率
(:mod:`scoring.items.attendance`; fallback there: the DingTalk monthly summary).

Each day cell is split on separators; each part takes the category of the LONGEST status
key of ``status_map`` it contains (so 旷工迟到 is late, 上班缺卡 is missing_punch). A
category counts once per day; categories in ``merge_consecutive`` count once per run of
consecutive working days (days that are only 休息 or blank do not break a run).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

_SEP = r"[,，;；、/\s]+"
CATEGORY_LABELS = {
    "late": "迟到",
    "leave": "请假",
    "absent": "旷工",
    "early": "早退",
    "missing_punch": "缺卡",
    "other_leave": "其他假",
}


def classify_days(attendance: pl.DataFrame, status_map: Mapping[str, str]) -> pl.DataFrame:
    """One row per (dingtalk_name, day, category) with the status text; unknown → 'unknown'."""
    keys = sorted(status_map, key=len, reverse=True)
    cat: Any = pl.when(pl.lit(False)).then(pl.lit(None, dtype=pl.String))
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
