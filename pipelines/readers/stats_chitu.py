"""赤兔 (Chitu) 客服数据 report: per-agent rows; 汇总 / 均值 rows are skipped (noted)."""

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
from .stats_sycm import SYCM_SIGNATURE

CHITU_ALIASES: dict[str, tuple[str, ...]] = {
    "agent_nick": ("客服", "客服昵称", "客服旺旺", "旺旺", "旺旺昵称", "子账号", "客服名称"),
    "consult_buyers": ("聊天人数", "咨询人数"),
    "received_buyers": ("接待人数",),
    "unreplied_buyers": ("未回复人数",),
    "reply_rate": ("回复率",),
    "first_response_s": ("首次响应", "首次响应时长"),
    "avg_response_s": ("平均响应", "平均响应时长"),
    "response_3min_rate": ("3分钟响应率", "3分钟人工响应率"),
    "slow_buyers": ("慢接待人数", "慢响应人数"),
    "ask_answer_ratio": ("答问比",),
    "long_receptions": ("长接待人数",),
    "transfers_out": ("转出人数",),
    "agent_chars": ("客服字数",),
    "max_concurrent": ("最大同时聊天数",),
    "group_name": ("分组", "客服分组", "旺旺分组"),
}
CHITU_SIGNATURE = (
    "聊天人数", "直接接入人数", "转发接入人数", "转出人数", "总消息数", "买家消息数", "客服消息数", "客服字数",
    "最大同时聊天数", "慢接待人数", "长接待人数", "首次响应", "平均响应", "平均接待时长",
)


class ChituStatsReader(Reader):
    layout = "stats_chitu"
    kinds = ("agent_stats",)
    description = "赤兔 客服数据（每客服统计）"

    def sniff(self, src: SourceFile) -> float:
        return signature_score(src, CHITU_SIGNATURE, 3, rival=SYCM_SIGNATURE, key=base_key)

    def diagnose(self, src: SourceFile) -> tuple[float, list[str]]:
        return resemblance(src, CHITU_SIGNATURE, CHITU_ALIASES, STATS_REQUIRED, rival=SYCM_SIGNATURE, key=base_key)

    def read(self, src: SourceFile) -> list[Batch]:
        return stats_batches(src, "chitu", CHITU_ALIASES, CHITU_SIGNATURE + ("接待人数", "回复率", "答问比"), self.description)
