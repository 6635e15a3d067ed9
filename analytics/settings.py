"""Settings of the chat analytics: the ``sessions:`` and ``text:`` sections of data/settings.yaml.

Pure: the caller reads the YAML file and hands its text to :meth:`AnalyticsSettings.from_yaml_text`.
Every default below is the documented default (docs/analytics.md).
"""

from __future__ import annotations

import re
from itertools import pairwise

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_window(text: str) -> tuple[int, int]:
    """'09:00-24:00' -> (32400, 86400) seconds of the day; end may be 24:00, start < end."""
    m = _WINDOW.match(text)
    if not m:
        raise ValueError(f"服务时间格式应为 HH:MM-HH:MM: {text!r}")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
    if not (0 <= start < end <= 86400) or m1 > 59 or m2 > 59:
        raise ValueError(f"服务时间须在同一天内且开始早于结束 (跨午夜请写两段): {text!r}")
    return start, end


class SessionSettings(BaseModel):
    """Conversation and response-time rules."""

    model_config = ConfigDict(extra="forbid")
    version: int = 1
    silence_gap_minutes: float = Field(30, gt=0)
    # Daily service windows, China local; off-window time does not count toward a wait.
    service_hours: list[str] = ["09:00-24:00"]
    slow_threshold_s: float = Field(100, gt=0)
    fast_threshold_s: float = Field(180, gt=0)
    long_conversation_minutes: float = Field(30, gt=0)
    p90_quantile: float = Field(0.9, gt=0, lt=1)
    excerpt_chars: int = Field(200, gt=10)

    @field_validator("service_hours")
    @classmethod
    def _windows(cls, v: list[str]) -> list[str]:
        spans = sorted(parse_window(w) for w in v)
        if not spans:
            raise ValueError("service_hours 不能为空")
        for (_, a1), (b0, _) in pairwise(spans):
            if b0 < a1:
                raise ValueError(f"服务时间段重叠: {v}")
        return v

    @property
    def windows(self) -> list[tuple[int, int]]:
        return sorted(parse_window(w) for w in self.service_hours)


class ClassifierSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_labelled: int = Field(40, ge=4)
    min_per_class: int = Field(5, ge=2)
    test_size: float = Field(0.25, gt=0, lt=1)
    seed: int = 20261001
    # buyer + time window link: refund applied within [conv start - before, conv end + after]
    link_days_before: float = 3
    link_days_after: float = 7
    order_id_pattern: str = r"(?:^|\D)(\d{15,20})(?:\D|$)"
    min_token_df: int = 2
    max_labelled: int = Field(20_000, ge=4)  # per month: fitted on a fixed, seeded sample above it (docs/analytics.md §7)


class TopicSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n_topics: int = Field(8, ge=1)
    top_terms: int = Field(10, ge=1)
    min_docs: int = Field(30, ge=2)
    seed: int = 20261001
    max_docs: int = Field(20_000, ge=2)  # per month: a fixed, seeded sample above it (docs/analytics.md §7)


class TextSettings(BaseModel):
    """Normalisation, lexicons, segmentation, classifier and topic settings."""

    model_config = ConfigDict(extra="forbid")
    version: int = 1
    opencc_config: str = "t2s"
    # Qianniu emoticon codes, e.g. [微笑] [大哭]; taken out of the text before matching
    emoticon_pattern: str = r"\[[\u4e00-\u9fffA-Za-z]{1,6}\]"
    # lexicon name -> file name under data/lexicons/ (the caller reads the files)
    lexicon_files: dict[str, str] = {
        "politeness": "politeness.txt",
        "forbidden": "forbidden.txt",
        "knowledge_gap": "knowledge_gap.txt",
        "escalation": "escalation.txt",
        "praise": "praise.txt",
        "negative": "negative.txt",
    }
    stopwords_file: str = "stopwords.txt"
    userdict_file: str = "jieba_userdict.txt"
    products_file: str = "products.yaml"
    segmenter: str = Field("rjieba", pattern="^(rjieba|jieba)$")
    # after-sales conversation: buyer text containing any of these, or linked to a refund
    after_sales_terms: list[str] = [
        "退款", "退货", "换货", "售后", "破损", "坏了", "质量", "少件", "漏发", "发错",
        "不符", "退钱", "补发", "维修", "仅退款", "七天无理由", "运费险", "瑕疵", "色差",
    ]
    classifier: ClassifierSettings = ClassifierSettings()
    topics: TopicSettings = TopicSettings()


class ChatMarkers(BaseModel):
    """Read-only copy of the top-level ``chat_markers`` section (owned by ingestion)."""

    model_config = ConfigDict(extra="allow")
    auto_reply: list[str] = ["[自动回复]", "【自动回复】"]
    system: list[str] = ["请在客户端查看原始聊天记录", "系统消息"]


class AnalyticsSettings(BaseModel):
    """All settings the analytics functions take."""

    model_config = ConfigDict(extra="ignore")
    sessions: SessionSettings = SessionSettings()
    text: TextSettings = TextSettings()
    chat_markers: ChatMarkers = ChatMarkers()

    @classmethod
    def from_yaml_text(cls, text: str) -> "AnalyticsSettings":
        """Build from the full settings.yaml text; other sections are ignored, missing ones default."""
        data = yaml.safe_load(text) or {}
        if not isinstance(data, dict):
            raise ValueError("settings.yaml 顶层应为映射 (key: value)")
        picked = {k: data[k] for k in ("sessions", "text", "chat_markers") if data.get(k) is not None}
        return cls.model_validate(picked)
