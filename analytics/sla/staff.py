"""One team per service staff member, so a person appears once in the monthly table.

The team comes from the staff list (服务人员名单) when it names him; else from his own
records: the team written most often on his tickets and calls (ties: the first name in
sort order). A row's blank or different 服务组 never splits a person in two. A person with
no team anywhere stays blank (shown as 未分组).
"""

from __future__ import annotations

import polars as pl


def staff_teams(frames: list[pl.DataFrame | None], staff_list: pl.DataFrame | None = None) -> pl.DataFrame:
    """``staff → team`` from the staff list first, then the most frequent team in ``frames``."""
    rows = [f.select(pl.col("staff").cast(pl.String), pl.col("team").cast(pl.String)) for f in frames
            if f is not None and f.height and {"staff", "team"} <= set(f.columns)]
    schema = {"staff": pl.String, "team": pl.String}
    seen = pl.concat(rows) if rows else pl.DataFrame(schema=schema)
    inferred = (
        seen.drop_nulls()
        .group_by("staff", "team").len()
        .sort(["staff", "len", "team"], descending=[False, True, False])
        .unique("staff", keep="first", maintain_order=True)
        .select("staff", "team")
    )
    if staff_list is None or staff_list.height == 0:
        return inferred
    listed = staff_list.select(pl.col("staff").cast(pl.String), pl.col("team").cast(pl.String)).drop_nulls().unique("staff", keep="first", maintain_order=True)
    return pl.concat([listed, inferred.join(listed, on="staff", how="anti")])


def apply_teams(frame: pl.DataFrame | None, teams: pl.DataFrame) -> pl.DataFrame | None:
    """``frame`` with each row's ``team`` replaced by the person's team (rows without a
    staff member keep their own 服务组)."""
    if frame is None or "staff" not in frame.columns:
        return frame
    t = teams.rename({"team": "_team"})
    out = frame.join(t, on="staff", how="left", maintain_order="left")
    team = pl.col("_team") if "team" not in frame.columns else pl.coalesce("_team", "team")
    return out.with_columns(team.alias("team")).drop("_team")
