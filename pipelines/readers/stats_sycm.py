"""生意参谋 / 千牛 咨询接待分析 export (xlsx, sheet 数据信息; CSV saves accepted).

Per-agent rows; the trailing 汇总值 / 平均值 rows are totals and are skipped (noted).
Headers are matched without their unit, so '平均响应时长（秒）' and '平均响应时长' both work.
"""

from __future__ import annotations

from pipelines.io.source import SourceFile

from ._table_common import (
    STATS_REQUIRED,
    base_key,
    resemblance,
    signature_score,
    stats_batches,
)
from .base import Batch, Reader

SYCM_ALIASES: dict[str, tuple[str, ...]] = {
    "agent_nick": ("旺旺昵称", "旺旺", "客服昵称"),
    "consult_buyers": ("咨询人数",),
    "received_buyers": ("接待人数",),
    "unreplied_buyers": ("未回复人数",),
    "reply_rate": ("旺旺回复率", "回复率"),
    "first_response_s": ("首次响应时长", "首次响应时间"),
    "avg_response_s": ("平均响应时长", "平均响应时间"),
    "response_3min_rate": ("3分钟人工响应率", "三分钟人工响应率"),
    "slow_buyers": ("慢响应人数",),
    "ask_answer_ratio": ("答问比",),
    "group_name": ("旺旺分组", "分组"),
}
SYCM_SIGNATURE = ("旺旺昵称", "咨询人数", "有效接待人数", "平均响应时长", "3分钟人工响应率", "旺旺回复率", "首次响应时长", "慢响应人数", "旺旺分组")
CHITU_MARKERS = ("聊天人数", "直接接入人数", "转发接入人数", "总消息数", "买家消息数", "客服消息数", "客服字数", "最大同时聊天数", "慢接待人数", "平均接待时长")


class SycmStatsReader(Reader):
    layout = "stats_sycm"
    kinds = ("agent_stats",)
    description = "生意参谋/千牛 咨询接待分析（每客服统计）"

    def sniff(self, src: SourceFile) -> float:
        return signature_score(src, SYCM_SIGNATURE, 3, rival=CHITU_MARKERS, key=base_key)

    def diagnose(self, src: SourceFile) -> tuple[float, list[str]]:
        return resemblance(src, SYCM_SIGNATURE, SYCM_ALIASES, STATS_REQUIRED, rival=CHITU_MARKERS, key=base_key)

    def read(self, src: SourceFile) -> list[Batch]:
        return stats_batches(src, "sycm", SYCM_ALIASES, SYCM_SIGNATURE, self.description)
