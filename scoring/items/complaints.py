"""Item 投诉/维权/举报/退款纠纷处理: grade suggested from the month's complaints (received in
the month), supervisor override wins. Deadlines: :func:`scoring.complaints.handled_within_deadline`."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import polars as pl
from pydantic import Field, model_validator

from analytics.sla.rules import CalendarSpec
from scoring.complaints import against_shop, handled_within_deadline
from scoring.grades import ladder_text, suggest_grade
from scoring.inputs import in_month
from scoring.items.base import ItemContext, ItemResult, KpiItem, PayrollColumn
from scoring.model import ItemScore, fmt, grade_table_text
from scoring.rules.model import GradedItem, Strict, check_suggest_ladder


class ComplaintBounds(Strict):
    """Thresholds over the per-agent complaint figures computed below."""

    complaints: Decimal | None = None
    within_deadline_rate: Decimal | None = None
    platform_interventions: Decimal | None = None
    against_shop: Decimal | None = None


class ComplaintCondition(Strict):
    min: ComplaintBounds = ComplaintBounds()
    max: ComplaintBounds = ComplaintBounds()


class ComplaintSuggest(Strict):
    优: ComplaintCondition
    良: ComplaintCondition
    中: ComplaintCondition

    @model_validator(mode="after")
    def _ladder(self) -> ComplaintSuggest:
        check_suggest_ladder({"优": self.优, "良": self.良, "中": self.中})
        return self


class ComplaintRules(GradedItem):
    """Rules block ``items.complaints``."""

    deadline_hours: Decimal = Field(gt=0)
    # the clock the deadline runs on: omitted = 24×7; or the SLA engine's calendar spec
    # (kind: working_hours, windows, china_holidays, ...), see docs/sla.md
    deadline_calendar: CalendarSpec | None = None
    against_shop_outcomes: tuple[str, ...]
    no_complaints_grade: Literal["优", "良", "中", "差"] = "优"
    suggest: ComplaintSuggest


def complaint_scores(ctx: ItemContext, item: ComplaintRules) -> ItemResult:
    """One :class:`ItemScore` per agent for item ``complaints``, and warnings."""
    agents, ratings, month, as_of, complaints = ctx.agents, ctx.ratings, ctx.month, ctx.as_of, ctx.inputs.complaints
    warnings: list[str] = []
    calendar = item.deadline_calendar.build("complaints") if item.deadline_calendar else None
    cm = handled_within_deadline(complaints.filter(in_month("received_at", month)), item.deadline_hours, as_of, calendar)
    cm = cm.with_columns(against_shop=against_shop(item.against_shop_outcomes))
    orphans = cm.filter(pl.col("agent_account").is_null())["complaint_id"].to_list()
    if orphans:
        warnings.append(f"{item.label}: 记录 {', '.join(orphans)} 未填客服账号, 不计入任何客服")
    stats = {
        r["agent_account"]: r
        for r in cm.drop_nulls("agent_account")
        .sort("received_at", "complaint_id")
        .group_by("agent_account")
        .agg(
            complaints=pl.len(),
            decided=pl.col("within_deadline").is_not_null().sum(),
            within=pl.col("within_deadline").fill_null(False).sum(),
            platform_interventions=pl.col("platform_intervened").fill_null(False).sum(),
            against_shop=pl.col("against_shop").sum(),
            ids=pl.col("complaint_id"),
        )
        .to_dicts()
    }
    rule = (
        f"等级分 {grade_table_text(item.grade_points)}; 主管覆盖优先; 处理时限 {fmt(item.deadline_hours)} 小时"
        f"{'(工作时间 ' + ','.join(item.deadline_calendar.windows) + ')' if item.deadline_calendar and item.deadline_calendar.kind == 'working_hours' else '(24×7)'}; "
        f"无投诉→{item.no_complaints_grade}; 建议阈值 {ladder_text(item.suggest)}"
    )
    out: dict[str, ItemScore] = {}
    for agent in agents:
        s = stats.get(agent)
        override = (ratings.get(agent) or {}).get("complaint_override")
        suggested: str | None
        if s is None:
            suggested, why, raw, ids = item.no_complaints_grade, "本月无投诉/维权/举报/纠纷记录", "0 条", []
        else:
            # all still pending → no late handling observed yet: rate 1
            rate = Decimal(s["within"]) / Decimal(s["decided"]) if s["decided"] else Decimal(1)
            values: dict[str, Decimal | None] = {
                "complaints": Decimal(s["complaints"]),
                "within_deadline_rate": rate,
                "platform_interventions": Decimal(s["platform_interventions"]),
                "against_shop": Decimal(s["against_shop"]),
            }
            suggested, why = suggest_grade(values, item.suggest)
            pending = s["complaints"] - s["decided"]
            raw = (
                f"{s['complaints']} 条, 按时处理 {s['within']}/{s['decided']}"
                + (f" (另 {pending} 条未到期)" if pending else "")
                + f", 平台介入 {s['platform_interventions']}, 判商家责任 {s['against_shop']}"
            )
            ids = [f"complaint:{i}" for i in s["ids"]]
        grade = override or suggested
        assert grade is not None  # every complaint figure is present, so a grade is always suggested
        out[agent] = ItemScore(
            agent_account=agent,
            item="complaints",
            label=item.label,
            points=item.grade_points.points(grade),
            raw_value=f"{raw} ({why})",
            grade=grade,
            suggested_grade=suggested,
            override_grade=override,
            source="override" if override else "suggested",
            rule=rule,
            evidence_ids=ids,
        )
    return ItemResult(out, warnings)


ITEM = KpiItem(
    key="complaints",
    label="投诉/维权/举报/退款纠纷处理",
    rules_model=ComplaintRules,
    score=complaint_scores,
    payroll_columns=(PayrollColumn("complaint_grade", "grade"), PayrollColumn("complaint_pts", "points")),
)
