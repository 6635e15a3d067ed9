"""备用件台账 workbook (接收单 / 领料单 / 旧件返还 / 盘点 / 二次索赔, docs/sla.md)."""

from __future__ import annotations

from pipelines.io.source import SourceFile
from pipelines.readers.base import Batch, Reader
from pipelines.sla.layout import read_kinds, sniff_kinds


class SlaPartsReader(Reader):
    layout = "sla_parts"
    kinds = ("sla_part_receipts", "sla_part_requisitions", "sla_part_returns", "sla_station_stock", "sla_stocktakes", "sla_claims")
    description = "备用件台账与二次索赔 (3.6-3.8)"

    def sniff(self, src: SourceFile) -> float:
        return sniff_kinds(src, self.kinds)

    def read(self, src: SourceFile) -> list[Batch]:
        return read_kinds(src, self.kinds)
