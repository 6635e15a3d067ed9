"""Threshold ladders: suggest a grade 优/良/中/差 from metric values (rules ``suggest``)."""

from __future__ import annotations

from decimal import Decimal

from scoring.model import fmt
from scoring.rules.model import SuggestLadder


def ladder_metrics(suggest: SuggestLadder) -> list[str]:
    """Every metric any grade of the ladder uses, in a stable order."""
    seen: list[str] = []
    for g in ("优", "良", "中"):
        cond = getattr(suggest, g)
        for side in ("min", "max"):
            for k in getattr(cond, side).model_dump(exclude_none=True):
                if k not in seen:
                    seen.append(k)
    return seen


def suggest_grade(values: dict[str, Decimal | None], suggest: SuggestLadder) -> tuple[str | None, str]:
    """Best grade whose every bound holds (差 if none); None when a used metric is missing.

    Returns the grade and a short explanation naming the bound that kept the next better grade
    out of reach, e.g. ``"未达优: response_3min_rate 0.85 < 0.9"``."""
    used = ladder_metrics(suggest)
    absent = [m for m in used if values.get(m) is None]
    if absent:
        return None, "缺少指标: " + ", ".join(absent)
    have = {m: v for m, v in values.items() if v is not None}
    failures: list[str] = []
    for g in ("优", "良", "中"):
        cond = getattr(suggest, g)
        failed = None
        for metric, bound in cond.min.model_dump(exclude_none=True).items():
            if have[metric] < bound:
                failed = f"{metric} {fmt(have[metric])} < {fmt(bound)}"
                break
        if failed is None:
            for metric, bound in cond.max.model_dump(exclude_none=True).items():
                if have[metric] > bound:
                    failed = f"{metric} {fmt(have[metric])} > {fmt(bound)}"
                    break
        if failed is None:
            return g, ("满足优的全部条件" if g == "优" else "; ".join(failures))
        failures.append(f"未达{g}: {failed}")
    return "差", "; ".join(failures)


def ladder_text(suggest: SuggestLadder) -> str:
    """The thresholds as one line, e.g. '优: reply_rate≥0.98, avg_response_s≤30 | 良: ...'."""
    parts = []
    for g in ("优", "良", "中"):
        cond = getattr(suggest, g)
        bits = [f"{k}≥{fmt(v)}" for k, v in cond.min.model_dump(exclude_none=True).items()]
        bits += [f"{k}≤{fmt(v)}" for k, v in cond.max.model_dump(exclude_none=True).items()]
        parts.append(f"{g}: " + ", ".join(bits))
    return " | ".join(parts) + " | 否则差"
