"""What :func:`pipelines.sample.generate` returns: files written and ground truth."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass
class SampleFile:
    """One written file. ``layout`` is the reader layout expected to recognise it
    (``pipelines.readers`` registry name); ``rows`` counts records per table, including
    the intentional bad rows and the duplicate copies that file holds."""

    name: str
    layout: str
    encoding: str  # 'utf-8', 'utf-8-sig', 'gbk' or 'xlsx'
    rows: dict[str, int]
    size: int = 0


@dataclass
class SampleSummary:
    """Files written into ``out`` and the ground truth tests can check against.

    ``truth`` keys (all ints unless said):
      messages            distinct message records generated (each counted once)
      message_rows        message rows over all files (= messages + duplicates + bad rows)
      duplicate_messages  rows repeated by overlapping exports (the stager should drop them)
      bad_rows            {kind: count}: message_bad_time, message_missing_buyer,
                          refund_negative_amount, refund_unknown_status
      refunds, duplicate_refunds, paid_orders, orders, refund_rate (str, 4 decimals)
      conversations, and per behaviour tag counts in ``tags``
      agents              {account: {role, median_response_s, fast, slow, rude, ...}}
      workbook            supervisor workbook facts (missing rating, bonuses, deductions)
      attendance          {dingtalk_name: {late, severe_late, early, missing_in, absent, leave_days, leave_spells}}
    """

    month: str
    seed: int
    out: str
    files: list[SampleFile] = field(default_factory=list)
    truth: dict = field(default_factory=dict)
    seconds: float = 0.0

    def file(self, name: str) -> SampleFile:
        for f in self.files:
            if f.name == name:
                return f
        raise KeyError(name)

    def by_layout(self, layout: str) -> list[SampleFile]:
        return [f for f in self.files if f.layout == layout]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1, default=str)
