"""Write notebooks/monthly_review.ipynb and notebooks/sla_review.ipynb from the cell lists below.

The notebooks are generated (not hand-edited) so that the stored files never carry outputs or
execution counts: edit the cells here, then run ``.venv/bin/python notebooks/build_notebooks.py``.
tests/notebooks/test_notebooks.py checks both that the files are stripped and that they match
this script, and executes them against a warehouse built from the sample month.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

# --------------------------------------------------------------------------------------------
# Shared setup: locate the project, pick a CJK font (silently fall back), resolve warehouse/month.
# --------------------------------------------------------------------------------------------

SETUP = r'''%matplotlib inline
import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import polars as pl
from IPython.display import display
from pipelines import warehouse
from pipelines.report.fonts import use_cjk_font
from pipelines.report.labels import metric_label  # the one label table of report, xlsx and explain


def project_root(start: Path) -> Path:
    """The kefu-kpi checkout containing ``start`` (works when Jupyter starts in notebooks/)."""
    for d in (start, *start.parents):
        if (d / "pyproject.toml").exists() and (d / "pipelines").is_dir():
            return d
    return start


ROOT = project_root(Path.cwd())
WAREHOUSE = Path(os.environ.get("KEFU_WAREHOUSE") or ROOT / "data" / "warehouse.duckdb")

# 中文字体: registered from its FILE (pipelines.report.fonts), so a stale matplotlib font cache
# cannot draw tofu boxes; without any CJK font the notebook still runs (labels show boxes).
CJK_FONT = use_cjk_font()
if not CJK_FONT:
    warnings.filterwarnings("ignore", message=r"Glyph .* missing from")
plt.rcParams["figure.dpi"] = 90
pl.Config.set_tbl_rows(40)
pl.Config.set_fmt_str_lengths(80)
print(f"仓库 warehouse: {WAREHOUSE}")
print(f"字体 font: {CJK_FONT or 'default (no CJK font found)'}")'''


def _month_cell(table: str) -> str:
    return f'''months = warehouse.months("{table}", WAREHOUSE) if "{table}" in warehouse.tables(WAREHOUSE) else []
MONTH = os.environ.get("KEFU_MONTH") or (months[-1] if months else None)
if MONTH is None:
    raise RuntimeError("仓库里还没有 {table} 数据 (no {table} rows yet): 先运行 kefu run / kefu sla")
print(f"月份 month: {{MONTH}}   (仓库中已有 months in warehouse: {{', '.join(months)}})")


def read(table: str, month: str | None = MONTH, **kw) -> pl.DataFrame:
    """This notebook's only door to the data: the documented read API (docs/notebooks.md)."""
    return warehouse.read(table, month=month, path=WAREHOUSE, **kw)


def has(table: str) -> bool:
    return table in warehouse.tables(WAREHOUSE)'''


# --------------------------------------------------------------------------------------------
# monthly_review.ipynb
# --------------------------------------------------------------------------------------------

MONTHLY = [
    ("md", """# 月度复盘 Monthly review — 客服 KPI

本笔记本只通过仓库读取接口 (`pipelines.warehouse.read / months / tables / query`) 读取数据,
不直接连接 DuckDB。仓库路径取环境变量 `KEFU_WAREHOUSE` (默认 `data/warehouse.duckdb`),
月份取 `KEFU_MONTH` (默认: 工资表中最新的月份)。

This notebook reads the warehouse **only** through the read API documented in
`docs/notebooks.md`. Set `KEFU_WAREHOUSE` / `KEFU_MONTH` before starting Jupyter to look at
another warehouse or month; by default it opens `data/warehouse.duckdb` and the latest payroll month."""),
    ("code", SETUP),
    ("code", _month_cell("payroll")),
    ("code", r'''import yaml

# Response-time thresholds come from the analytics settings (config, not warehouse data).
_settings = yaml.safe_load((ROOT / "data" / "settings.yaml").read_text("utf-8")) if (ROOT / "data" / "settings.yaml").exists() else {}
SLOW_S = float((_settings.get("sessions") or {}).get("slow_threshold_s", 100))
FAST_S = float((_settings.get("sessions") or {}).get("fast_threshold_s", 180))

payroll = read("payroll")
meta = read("kpi_meta")
PASS_MARK = float(meta["pass_mark"][0]) if meta.height else None
NAMES = dict(zip(payroll["agent"].to_list(), payroll["name"].to_list()))


def who(col: str = "agent_account") -> pl.Expr:
    """Agent label for charts: the roster name, else the nick after 'shop:'."""
    nick = pl.col(col).str.split(":").list.last()
    return pl.coalesce(pl.col(col).replace_strict(NAMES, default=None, return_dtype=pl.String), nick).alias("agent")


print(f"慢回复阈值 slow > {SLOW_S:.0f}s, 快速回复 fast ≤ {FAST_S:.0f}s, 合格线 pass mark {PASS_MARK}")'''),
    ("md", """## 1. 团队工资与总分 Team payroll and scores

上表为本月工资表汇总 (工资为 Decimal, 保留两位; 金额合计不含未完成的客服); 下图为每位客服的总分 (130 分制),
虚线为合格线, 绿色=合格, 红色=不合格, 灰色=未完成 (主管数据缺失, 见 `status_reason`)。

The summary and table come straight from `payroll` (money stays Decimal; money totals cover
agents whose pay is final, not the `incomplete` ones). The bar chart shows
each agent's total score against the pass mark; grey bars are agents whose payroll is
`incomplete` (a supervisor input is missing)."""),
    ("code", r'''final = pl.col("status") != "incomplete"  # money totals over agents whose pay is settled
summary = payroll.select(
    pl.len().alias("人数 agents"),
    pl.col("passed").fill_null(False).sum().alias("合格 passed"),
    (~final).sum().alias("未完成 incomplete"),
    pl.col("base_salary").filter(final).sum().alias("底薪合计 base (final)"),
    pl.col("kpi_bonus").filter(final).sum().alias("KPI奖金合计 bonus (final)"),
    pl.col("salary").filter(final).sum().alias("工资合计 pay total (final)"),
)
display(summary)
display(payroll.select("name", "agent", "total_score", "passed", "base_salary", "kpi_bonus", "salary", "status", "status_reason")
        .sort("total_score", descending=True, nulls_last=True))'''),
    ("code", r'''scores = payroll.with_columns(who("agent"), pl.col("total_score").cast(pl.Float64).alias("score")).sort("score", nulls_last=False)
colors = ["#9e9e9e" if s is None else ("#2e7d32" if p else "#c62828") for s, p in zip(scores["score"], scores["passed"])]
fig, ax = plt.subplots(figsize=(9, 0.45 * scores.height + 1.2))
ax.barh(scores["agent"].to_list(), scores["score"].fill_null(0).to_list(), color=colors)
for y, (s, st) in enumerate(zip(scores["score"], scores["status"])):
    ax.text((s or 0) + 1, y, "未完成 incomplete" if s is None else f"{s:.0f}", va="center", fontsize=9)
if PASS_MARK is not None:
    ax.axvline(PASS_MARK, ls="--", color="black", lw=1, label=f"合格线 pass mark {PASS_MARK:.0f}")
    ax.legend(loc="lower right")
ax.set_xlabel("总分 total score (130)")
ax.set_title(f"{MONTH} 客服总分 total score per agent")
plt.tight_layout()
plt.show()'''),
    ("md", """## 2. 考核明细 Score breakdown (kpi_items)

每位客服在六个考核项上的得分 (透视表), 以及扣分/加分记录 (`kpi_adjustments`)。
这里用 `as_="pandas"` 读取以演示 pandas 输出。

Points per KPI item per agent (a pivot of `kpi_items`, read as pandas), stacked; then the
deductions and bonuses with the record they come from."""),
    ("code", r'''items = warehouse.read("kpi_items", month=MONTH, path=WAREHOUSE, as_="pandas")
items["agent"] = [NAMES.get(a) or a.split(":")[-1] for a in items["agent_account"]]
items["points_f"] = items["points"].astype(float)  # display only; scoring keeps Decimal
pivot = items.pivot_table(index="agent", columns="label", values="points_f", aggfunc="sum", fill_value=0)
pivot = pivot.loc[pivot.sum(axis=1).sort_values().index]
display(pivot)
fig, ax = plt.subplots(figsize=(10, 0.45 * len(pivot) + 1.5))
left = None
for label in pivot.columns:
    ax.barh(pivot.index, pivot[label], left=left, label=label)
    left = pivot[label] if left is None else left + pivot[label]
ax.set_xlabel("考核项得分 item points (before deductions/bonuses)")
ax.set_title(f"{MONTH} 考核项构成 score breakdown")
ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left", fontsize=8)
plt.tight_layout()
plt.show()'''),
    ("code", r'''adj = read("kpi_adjustments")
if adj.height:
    display(adj.with_columns(who()).select("agent", "kind", "item", "points", "record_id", "detail").sort("agent", "kind"))
    display(adj.with_columns(who()).group_by("agent", "kind").agg(pl.col("points").sum()).pivot(on="kind", index="agent", values="points").sort("agent"))
else:
    print("本月无扣分/加分记录 (no deductions or bonuses)")'''),
    ("md", """## 3. 响应时间分布 Response-time distributions (questions.response_s)

每个买家提问到客服回复的服务时长 (秒, 按服务时段计)。左: 全店直方图, 虚线为慢回复阈值与 3 分钟线;
右: 每位客服的箱线图 (对数纵轴)。未回复的提问不在图中, 表中单独计数;
转给同事的提问算在接手的客服名下 (与月度指标口径一致)。

Seconds from a buyer question to the agent's answer (service clock). Left: the team histogram with
the slow threshold and the 3-minute line; right: one box per agent (symlog axis). Unanswered
questions have no response time and are counted in the table instead; questions transferred out
count for the receiving agent (as in the marts)."""),
    ("code", r'''# A question transferred away belongs to the receiving agent (same rule as the marts and report).
questions = read("questions").filter(pl.col("status") != "transferred_out").with_columns(who())
answered = questions.filter((pl.col("status") == "answered") & pl.col("response_s").is_not_null())
agents = sorted(answered["agent"].unique().to_list())
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 4.8), gridspec_kw={"width_ratios": [1, 1.4]})
ax1.hist(answered["response_s"].to_numpy(), bins=40, color="#1565c0")
ax1.axvline(SLOW_S, color="#ef6c00", ls="--", label=f"慢回复 slow > {SLOW_S:.0f}s")
ax1.axvline(FAST_S, color="#2e7d32", ls=":", label=f"3 分钟 {FAST_S:.0f}s")
ax1.set_xlabel("响应时间 response (s)")
ax1.set_ylabel("提问数 questions")
ax1.set_title("全店分布 team histogram")
ax1.legend()
ax2.boxplot([answered.filter(pl.col("agent") == a)["response_s"].to_numpy() for a in agents], tick_labels=agents)
ax2.set_yscale("symlog", linthresh=10)
ax2.axhline(SLOW_S, color="#ef6c00", ls="--")
ax2.axhline(FAST_S, color="#2e7d32", ls=":")
ax2.set_ylabel("响应时间 response (s, symlog)")
ax2.set_title("每位客服 per agent")
ax2.tick_params(axis="x", rotation=45)
plt.tight_layout()
plt.show()
display(questions.group_by("agent").agg(
    pl.len().alias("提问 questions"),
    (pl.col("status") == "unanswered").sum().alias("未回复 unanswered"),
    pl.col("response_s").median().alias("中位数 median_s"),
    pl.col("response_s").quantile(0.9).alias("p90_s"),
    pl.col("response_s").max().alias("最长 max_s"),
).sort("agent"))'''),
    ("md", """## 4. 3 分钟回复率与慢回复 3-minute rate and slow responses (agent_month_metrics)

左: 3 分钟人工响应率 (越高越好); 右: 慢回复次数 (回复超过慢回复阈值)。数据来自月度指标表,
与千牛导出的客服绩效口径一致 (定义见 docs/marts.md)。

Left: share of questions answered within 3 minutes; right: count of slow responses. Both are
monthly marts (`agent_month_metrics`, definitions in docs/marts.md)."""),
    ("code", r'''amm = read("agent_month_metrics").with_columns(who()).sort("agent")
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.2))
ax1.bar(amm["agent"].to_list(), (amm["response_3min_rate"].fill_null(0) * 100).to_list(), color="#2e7d32")
ax1.set_ylim(0, 100)
ax1.set_ylabel(f"{metric_label('response_3min_rate')} (%)")
ax1.set_title("3 分钟人工响应率 answered within 3 min")
ax2.bar(amm["agent"].to_list(), amm["slow_responses"].fill_null(0).to_list(), color="#ef6c00")
ax2.set_ylabel(metric_label("slow_responses"))
ax2.set_title(f"慢回复次数 responses > {SLOW_S:.0f}s")
for ax in (ax1, ax2):
    ax.tick_params(axis="x", rotation=45)
plt.tight_layout()
plt.show()
display(amm.select("agent", "conversations", "questions", "answered_questions", "reply_rate", "response_3min_rate",
                   "slow_responses", "first_response_median_s", "p90_response_s", "unreplied_buyers", "forbidden_hits"))'''),
    ("md", """## 5. 退款原因与会话原因 Refund reasons and classified conversation reasons

上: 全店退款单的退款原因 (`refunds.reason`, 退款表本身没有客服字段);
中: 能关联到退款单的会话, 按客服统计真实退款原因 (`conversations.refund_reason`);
下: 分类器对每个售后会话预测的原因 (`conversation_reasons.predicted_reason`); 留出集评估取自分析运行记录。

Top: the shop's refund reasons (`refunds` has no agent). Middle: the refund reason of each
conversation linked to a refund, per agent. Bottom: the classifier's predicted reason for every
after-sales conversation, per agent; the held-out evaluation is the one logged by the analytics run
(stored predictions come from the model refitted on all labels, so they are not a held-out test)."""),
    ("code", r'''refunds = read("refunds")
reasons = refunds.group_by(pl.col("reason").fill_null("(空 blank)")).len().sort("len")
fig, ax = plt.subplots(figsize=(8, 0.35 * reasons.height + 1.2))
ax.barh(reasons["reason"].to_list(), reasons["len"].to_list(), color="#6a1b9a")
ax.set_xlabel("退款单数 refunds")
ax.set_title(f"{MONTH} 退款原因 refund reasons (全店 shop, {refunds.height} 单)")
plt.tight_layout()
plt.show()'''),
    ("code", r'''conv = read("conversations").with_columns(who())
cr = read("conversation_reasons").with_columns(who())
# One colour per reason in both charts, so the true and the predicted mix compare at a glance.
ALL_REASONS = sorted(set(conv["refund_reason"].drop_nulls().to_list()) | set(cr["predicted_reason"].drop_nulls().to_list()))
REASON_COLOR = {r: plt.get_cmap("tab20")(i % 20) for i, r in enumerate(ALL_REASONS)}


def stacked_by_agent(frame: pl.DataFrame, category: str, title: str) -> None:
    """Stacked horizontal bars: one bar per agent, one segment per category value."""
    counts = frame.group_by("agent", category).len().pivot(on=category, index="agent", values="len").fill_null(0).sort("agent")
    cats = sorted(c for c in counts.columns if c != "agent")
    if not cats:
        print(f"{title}: 无数据 (no rows)")
        return
    fig, ax = plt.subplots(figsize=(11, 0.45 * counts.height + 1.5))
    left = [0] * counts.height
    for c in cats:
        vals = counts[c].to_list()
        ax.barh(counts["agent"].to_list(), vals, left=left, label=c, color=REASON_COLOR.get(c))
        left = [a + b for a, b in zip(left, vals)]
    ax.set_title(title)
    ax.set_xlabel("会话数 conversations")
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left", fontsize=8)
    plt.tight_layout()
    plt.show()


linked = conv.filter(pl.col("refund_reason").is_not_null())
stacked_by_agent(linked, "refund_reason", "关联退款的真实原因 linked refund reason per agent")

predicted = cr.filter(pl.col("predicted_reason").is_not_null())
stacked_by_agent(predicted, "predicted_reason", "分类器预测原因 classifier's reason per agent")

# The held-out evaluation is in the analytics run's message. The stored predicted_reason comes from
# the model refitted on ALL labelled conversations, so agreement with `label` below is in-sample.
analytics_runs = read("runs").filter(pl.col("step") == "analytics").sort("started_at")
if analytics_runs.height:
    print("留出集评估 held-out evaluation (analytics run):", analytics_runs["message"][-1])
held = cr.filter(pl.col("split") == "test") if "heldout_predicted" in cr.columns else cr.clear()
if held.height:
    acc = held.select((pl.col("heldout_predicted") == pl.col("label")).mean()).item()
    print(f"留出集 held-out: {held.height} 个会话, 准确率 accuracy {acc:.3f} (由 heldout_predicted 重算 recomputed)")'''),
    ("md", """## 6. 词库命中 Lexicon hits per agent (text_hits)

每位客服的会话中各词库的命中次数 (礼貌用语、禁用语、知识盲区、升级/投诉威胁、表扬、负面情绪)。
热力图按列归一化 (每个词库内比较客服), 格内数字为原始次数。下表列出禁用语与知识盲区的高频词。

Hits of each lexicon in each agent's conversations (agent lexicons: politeness, forbidden,
knowledge gap; buyer lexicons: escalation, praise, negative). Colours are normalised per column so
agents compare within a lexicon; the numbers are raw counts."""),
    ("code", r'''hits = read("text_hits").with_columns(who())
if hits.height:
    mat = hits.group_by("agent", "lexicon").len().pivot(on="lexicon", index="agent", values="len").fill_null(0).sort("agent")
    lex = [c for c in mat.columns if c != "agent"]
    values = mat.select(lex).to_numpy().astype(float)
    norm = values / values.max(axis=0).clip(min=1)
    fig, ax = plt.subplots(figsize=(1.4 * len(lex) + 3, 0.45 * mat.height + 1.5))
    ax.imshow(norm, cmap="YlOrRd", aspect="auto")
    ax.set_xticks(range(len(lex)), lex, rotation=30)
    ax.set_yticks(range(mat.height), mat["agent"].to_list())
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            ax.text(j, i, f"{values[i, j]:.0f}", ha="center", va="center", fontsize=8)
    ax.set_title("词库命中次数 lexicon hits (colour: share of column max)")
    plt.tight_layout()
    plt.show()
    display(hits.filter(pl.col("lexicon").is_in(["forbidden", "knowledge_gap", "escalation"]))
            .group_by("lexicon", "term").len().sort(["lexicon", "len"], descending=[False, True])
            .group_by("lexicon", maintain_order=True).head(5))
else:
    print("本月无词库命中 (no lexicon hits)")'''),
    ("md", """## 7. 话题 Topics (top terms)

主题发现 (`topics`) 给出每个主题的高权重词和涉及会话数。条形图标注每个主题的前三个词。

Topic discovery over the month's buyer text: each topic's top-weighted terms and the number of
conversations it covers; bars are labelled with the top three terms."""),
    ("code", r'''topics = read("topics")
if topics.height:
    top = (topics.sort("topic", "rank")
           .group_by("topic", maintain_order=True)
           .agg(pl.col("docs").first(), pl.col("term").head(8).str.join(" ").alias("top_terms"),
                pl.col("term").head(3).str.join("/").alias("short")))
    display(top.select("topic", "docs", "top_terms"))
    top = top.sort("docs")
    fig, ax = plt.subplots(figsize=(9, 0.45 * top.height + 1.2))
    ax.barh([f"#{t} {s}" for t, s in zip(top["topic"], top["short"])], top["docs"].to_list(), color="#00838f")
    ax.set_xlabel("会话数 conversations")
    ax.set_title("主题规模 topic size")
    plt.tight_layout()
    plt.show()
else:
    print("本月未生成主题 (no topics)")'''),
    ("md", """## 8. 运行记录 Run history (runs, run_files)

仓库中的所有运行 (导入、分析、评分、SLA): 状态、规则版本与耗时; 以及本月导入的文件清单
(读入 = 入库 + 隔离 + 非本月 + 重复)。文件清单用 `warehouse.query` 关联 `runs` 与 `run_files`。

Every run the warehouse logged (ingest, analytics, score, sla) with status, rules version and
duration; then this month's ingested files with their row accounting (a join through
`warehouse.query`, since `run_files` has no month column)."""),
    ("code", r'''runs = read("runs", month=None).with_columns(
    ((pl.col("ended_at") - pl.col("started_at")).dt.total_milliseconds() / 1000).alias("seconds")
).sort("started_at")
display(runs.select("month", "step", "status", "started_at", "seconds", "rules_version", "message"))
this = runs.filter(pl.col("month") == MONTH)
fig, ax = plt.subplots(figsize=(9, 0.4 * this.height + 1.2))
ax.barh([f"{s} {t:%m-%d %H:%M}" for s, t in zip(this["step"], this["started_at"])], this["seconds"].to_list(),
        color=["#2e7d32" if s == "ok" else "#ef6c00" for s in this["status"]])
ax.set_xlabel("耗时 seconds")
ax.set_title(f"{MONTH} 运行耗时 run durations (orange = not ok)")
plt.tight_layout()
plt.show()
files = warehouse.query(
    """SELECT r.step, f.file_name, f.kind, f.layout, f.encoding, f.rows_read, f.loaded, f.quarantined,
              f.out_of_month, f.duplicates, f.status
       FROM run_files f JOIN runs r USING (run_id)
       WHERE r.month = ? ORDER BY r.started_at, f.file_name, f.kind""",
    WAREHOUSE, [MONTH])
display(files)'''),
    ("md", """## 9. 月度趋势 Month-over-month trend

仓库中有多个月份时, 画出每位客服的总分走势; 只有一个月时给出提示。

With more than one month in the warehouse, each agent's total score over time."""),
    ("code", r'''history = read("payroll", month=None).with_columns(who("agent"), pl.col("total_score").cast(pl.Float64).alias("score"))
all_months = sorted(history["month"].unique().to_list())
if len(all_months) > 1:
    fig, ax = plt.subplots(figsize=(9, 4))
    for agent, g in history.sort("month").group_by("agent", maintain_order=True):
        ax.plot(g["month"].to_list(), g["score"].to_list(), marker="o", label=agent[0])
    if PASS_MARK is not None:
        ax.axhline(PASS_MARK, ls="--", color="black", lw=1)
    ax.set_ylabel("总分 total score")
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left", fontsize=8)
    ax.set_title("总分走势 score trend")
    plt.tight_layout()
    plt.show()
else:
    print(f"仓库中只有 {all_months} 一个月, 暂无趋势 (only one month in the warehouse)")'''),
]


# --------------------------------------------------------------------------------------------
# sla_review.ipynb
# --------------------------------------------------------------------------------------------

SLA = [
    ("md", """# 售后服务 SLA 复盘 Service SLA review

本笔记本只通过仓库读取接口读取 SLA 结果表 (`ticket_sla`, `sla_month`, `sla_compliance`,
`sla_ledger` 及其 `sla_history_*` 历史)。仓库路径取 `KEFU_WAREHOUSE` (默认 `data/warehouse.duckdb`),
月份取 `KEFU_MONTH` (默认: `sla_month` 中最新的月份)。

Reads the SLA result tables through the documented read API only. `KEFU_WAREHOUSE` /
`KEFU_MONTH` choose the warehouse and month (default: the latest month in `sla_month`).
The monthly **targets** are not stored in the warehouse: they are read from the SLA rules file
(`KEFU_SLA_RULES`, default `data/sla_rules.yaml`) and the notebook checks that its hash matches
the hash recorded by the month's `sla` run."""),
    ("code", SETUP),
    ("code", _month_cell("sla_month")),
    ("code", r'''from analytics.sla import load_rules, rules_hash

RULES_PATH = Path(os.environ.get("KEFU_SLA_RULES") or ROOT / "data" / "sla_rules.yaml")
_rules_text = RULES_PATH.read_text("utf-8")
TARGETS = load_rules(_rules_text).targets
sla_runs = read("runs").filter(pl.col("step") == "sla").sort("started_at")
run_hash = sla_runs["rules_hash"][-1] if sla_runs.height else None
if run_hash is not None and run_hash != rules_hash(_rules_text):
    print(f"注意 NOTE: {RULES_PATH.name} 已改动 (hash {rules_hash(_rules_text)}), 本月结果用的是 hash {run_hash}; "
          "图中目标线取自当前文件, 达标标志 (_met) 取自仓库。")
TARGET_LINES = {
    "timeliness": (float(TARGETS.timeliness_min), "≥", "服务及时率 timeliness", "timeliness_met"),
    "satisfaction": (float(TARGETS.satisfaction_min), "≥", "用户满意度 satisfaction", "satisfaction_met"),
    "complaint_rate": (float(TARGETS.complaint_below), "<", "抱怨率 complaint rate", "complaint_met"),
}
for col, (t, op, label, _) in TARGET_LINES.items():
    print(f"{label}: 目标 target {op} {t:.0%}")
if sla_runs.height:
    print(f"规则版本 rules version {sla_runs['rules_version'][-1]}, run status {sla_runs['status'][-1]}: {sla_runs['message'][-1]}")'''),
    ("md", """## 1. 达标率 vs 目标 Rates vs targets (sla_month)

三项月度指标 (服务及时率、用户满意度、服务责任抱怨率) 按全部/服务组/服务人员三个层级,
虚线为目标; 红色柱表示未达标 (取仓库中的 `_met` 标志, 精确分数比较)。

The three monthly measures per level (all, team, staff) against their targets (dashed). Red bars
did not meet the target (the warehouse's exact `_met` flags, not a float comparison here)."""),
    ("code", r'''month_tbl = read("sla_month").with_columns(
    pl.when(pl.col("level") == "all").then(pl.lit("全部 all"))
      .when(pl.col("level") == "team").then(pl.col("team"))
      .otherwise(pl.col("team") + "/" + pl.col("staff")).alias("who")
)
display(month_tbl.select("level", "team", "staff", "timely", "timed", "timeliness", "timeliness_met", "satisfied", "surveyed",
                         "satisfaction", "satisfaction_met", "complaints", "tickets", "complaint_rate", "complaint_met", "all_met", "running"))
fig, axes = plt.subplots(1, 3, figsize=(16, 0.38 * month_tbl.height + 1.8), sharey=True)
labels = month_tbl["who"].to_list()
for ax, (col, (target, op, title, met_col)) in zip(axes, TARGET_LINES.items()):
    met = month_tbl[met_col].to_list()
    vals = (month_tbl[col].fill_null(0) * 100).to_list()
    ax.barh(labels, vals, color=["#2e7d32" if m else ("#9e9e9e" if m is None else "#c62828") for m in met])
    ax.axvline(target * 100, ls="--", color="black", lw=1)
    ax.set_title(f"{title} ({op} {target:.0%})")
    ax.set_xlabel("%")
    ax.invert_yaxis()
plt.tight_layout()
plt.show()'''),
    ("md", """## 2. 规则执行情况 Deadline rules: met, breached, running (ticket_sla)

每条时限规则 (如 24 小时到场、12 小时答复) 的达标/超时/进行中数量, 以及超时记录按服务人员分布。
直方图为已结束记录的 用时 / 时限 比值 (>1 即超时)。

Per deadline rule: how many records met, breached or are still running; breaches per staff member;
and the distribution of elapsed time as a share of the rule's target (> 1 = breached)."""),
    ("code", r'''ts = read("ticket_sla")
status_counts = ts.group_by("rule_id", "rule_name", "status").len().pivot(on="status", index=["rule_id", "rule_name"], values="len").fill_null(0).sort("rule_id")
display(status_counts)
statuses = [s for s in ("met", "breached", "running") if s in status_counts.columns] + \
           [s for s in status_counts.columns if s not in ("rule_id", "rule_name", "met", "breached", "running")]
palette = {"met": "#2e7d32", "breached": "#c62828", "running": "#f9a825"}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(15, 4.5))
left = [0] * status_counts.height
for s in statuses:
    vals = status_counts[s].to_list()
    ax1.barh(status_counts["rule_name"].to_list(), vals, left=left, label=s, color=palette.get(s))
    left = [a + b for a, b in zip(left, vals)]
ax1.set_title("各规则结果 records per rule")
ax1.legend()
ended = ts.filter(pl.col("elapsed_s").is_not_null() & (pl.col("target_h") > 0) & (pl.col("status") != "running"))
ratio = (ended["elapsed_s"] / (ended["target_h"] * 3600)).to_numpy()
ax2.hist(ratio, bins=40, color="#1565c0")
ax2.axvline(1, ls="--", color="#c62828", label="时限 deadline")
ax2.set_xlabel("用时 / 时限 elapsed ÷ target")
ax2.set_ylabel("记录 records")
ax2.set_title("用时占时限比例 elapsed vs target")
ax2.legend()
plt.tight_layout()
plt.show()
breached = ts.filter(pl.col("status") == "breached")
display(breached.group_by("staff", "rule_id").len().pivot(on="rule_id", index="staff", values="len").fill_null(0).sort("staff"))
display(breached.select("record_id", "rule_id", "staff", "team", "start_at", "deadline", "stop_at",
                        (pl.col("elapsed_s") / 3600).round(1).alias("elapsed_h"), "target_h").sort("start_at"))'''),
    ("md", """## 3. 合规检查 Compliance findings (sla_compliance)

制度条款检查发现的问题 (如签字早于完工、旧件未返还、复电未存档、帐物不符), 按检查项与服务人员统计,
附明细 (含制度条款号)。

Findings of the policy checks (signature before completion, old part not returned, call not
archived, stock mismatch, ...), counted per check and staff member, with the detail and policy clause."""),
    ("code", r'''findings = read("sla_compliance")
if findings.height:
    by_check = findings.group_by("check", "policy_ref").len().sort("len")
    fig, ax = plt.subplots(figsize=(9, 0.4 * by_check.height + 1.2))
    ax.barh([f"{c} ({p})" for c, p in zip(by_check["check"], by_check["policy_ref"])], by_check["len"].to_list(), color="#c62828")
    ax.set_xlabel("发现数 findings")
    ax.set_title(f"{MONTH} 合规发现 compliance findings")
    plt.tight_layout()
    plt.show()
    display(findings.with_columns(pl.col("staff").fill_null("(无 none)")).group_by("staff", "check").len()
            .pivot(on="check", index="staff", values="len").fill_null(0).sort("staff"))
    display(findings.select("check", "policy_ref", "record_kind", "record_id", "staff", "at", "detail").sort("check", "at"))
else:
    print("本月无合规问题 (no findings)")'''),
    ("md", """## 4. 备件台账核对 Parts ledger (sla_ledger)

期初 + 接收 − 发放 = 应有账面; `book_diff` = 账面 − 应有, `count_diff` = 实盘 − 账面。
非零即帐物不符。

Opening + received − issued = computed book quantity; `book_diff` is book minus computed,
`count_diff` is the physical count minus book. Any non-zero difference is a mismatch."""),
    ("code", r'''from matplotlib.ticker import MaxNLocator

ledger = read("sla_ledger")
display(ledger.select("part_id", "part_name", "counted_on", "opening_qty", "received", "issued", "computed_book",
                      "book_qty", "counted_qty", "book_diff", "count_diff", "status"))
if ledger.height:
    x = list(range(ledger.height))
    fig, ax = plt.subplots(figsize=(10, 3.8))
    ax.bar([i - 0.2 for i in x], ledger["book_diff"].fill_null(0).to_list(), width=0.4, label="账面差 book − computed", color="#6a1b9a")
    ax.bar([i + 0.2 for i in x], ledger["count_diff"].fill_null(0).to_list(), width=0.4, label="盘点差 counted − book", color="#ef6c00")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, [f"{p}\n{n}" for p, n in zip(ledger["part_id"], ledger["part_name"])], fontsize=8)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("件 units")
    ax.set_title("帐物差异 ledger differences")
    ax.legend()
    plt.tight_layout()
    plt.show()'''),
    ("md", """## 5. SLA 运行历史 SLA run history

每次 `kefu sla` 运行都保留在 `sla_history_*` 表中 (规则变更即新的一次运行, 旧结果不覆盖)。
下表比较本月各次运行的全体指标。

Every `kefu sla` run is kept in the `sla_history_*` tables (a rules change is a new run; old
results stay). The table compares this month's overall figures run by run."""),
    ("code", r'''display(sla_runs.select("run_id", "started_at", "status", "rules_version", "rules_hash", "message"))
if has("sla_history_sla_month"):
    hist = read("sla_history_sla_month").filter(pl.col("level") == "all").join(
        sla_runs.select("run_id", "started_at", "rules_version"), on="run_id", how="left").sort("started_at")
    display(hist.select("run_id", "started_at", "rules_version", "timeliness", "satisfaction", "complaint_rate", "all_met"))'''),
]


def build(cells: list[tuple[str, str]], title: str) -> nbformat.NotebookNode:
    """A notebook with no outputs and null execution counts, kernel python3."""
    nb = new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "title": title,
    }
    for i, (kind, src) in enumerate(cells):
        cell = new_markdown_cell(src) if kind == "md" else new_code_cell(src)
        cell["id"] = f"c{i:02d}"  # stable ids: regenerating gives an identical file
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


NOTEBOOKS = {
    "monthly_review.ipynb": (MONTHLY, "月度复盘 Monthly review"),
    "sla_review.ipynb": (SLA, "售后服务 SLA 复盘 Service SLA review"),
}


def render(name: str) -> str:
    """The exact text written for notebook ``name``."""
    cells, title = NOTEBOOKS[name]
    return nbformat.writes(build(cells, title)) + "\n"


def main() -> None:
    for name in NOTEBOOKS:
        (HERE / name).write_text(render(name), encoding="utf-8")
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
