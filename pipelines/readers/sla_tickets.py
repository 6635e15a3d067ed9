"""服务工单 workbook (service tickets, docs/sla.md) → ``sla_tickets``."""

from __future__ import annotations

from pipelines.io.source import SourceFile
from pipelines.readers.base import Batch, Reader
from pipelines.sla.layout import read_kinds, sniff_kinds


class SlaTicketsReader(Reader):
    layout = "sla_tickets"
    kinds = ("sla_tickets", "sla_staff")
    description = "服务工单 (售后服务管理: 报修、到场、答复、签字、满意度)"

    def sniff(self, src: SourceFile) -> float:
        return sniff_kinds(src, self.kinds)

    def read(self, src: SourceFile) -> list[Batch]:
        return read_kinds(src, self.kinds)
