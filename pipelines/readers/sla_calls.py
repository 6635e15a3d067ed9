"""来电来函记录 (call/letter log, docs/sla.md) → ``sla_calls``."""

from __future__ import annotations

from pipelines.io.source import SourceFile
from pipelines.readers.base import Batch, Reader
from pipelines.readers._sla_layout import read_kinds, sniff_kinds


class SlaCallsReader(Reader):
    layout = "sla_calls"
    kinds = ("sla_calls",)
    description = "来电来函处理记录 (3.5)"

    def sniff(self, src: SourceFile) -> float:
        return sniff_kinds(src, self.kinds)

    def read(self, src: SourceFile) -> list[Batch]:
        return read_kinds(src, self.kinds)
