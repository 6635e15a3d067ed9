"""Mask buyers' phone numbers, ID-card numbers and addresses before anything is stored.

:func:`mask_staged` is pure (frames in, frames out) and runs inside
:func:`pipelines.staging.stage.stage_batch`, so every staged kind of every domain (KPI and
SLA) and every quarantined row pass through it before they can reach the warehouse. It
masks the free-text columns listed in :data:`FREE_TEXT` and the ``reason``/``raw`` columns
of quarantine rows (they repeat source cells). Identifiers, names, nicks and choice columns
are never touched (see :data:`STRUCTURAL`): buyer nicks link chats, refunds and complaints
and stay in the warehouse; outputs mask them (pipelines/report/mask.py).

The stored mask keeps every text's length (one ``*`` per masked character), so metrics that
count characters do not move. What is masked is set by the ``privacy:`` block of
data/settings.yaml (default: everything on); see docs/privacy.md.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from pipelines.report.mask import mask_pii_stored

SETTINGS_PATH = Path(__file__).resolve().parents[2] / "data" / "settings.yaml"

# Free text a person typed (buyer, agent, supervisor): may hold phones, ID cards, addresses.
FREE_TEXT: dict[str, tuple[str, ...]] = {
    "messages": ("text", "transfer_reason"),
    "refunds": ("reason", "description"),
    "complaints": ("outcome", "note"),
    "reviews": ("content",),
    "ratings": ("note",),
    "sla_tickets": ("note", "pause_reason", "report_text", "customer_comment"),
    "sla_calls": ("subject", "reply_text"),
}
# Text columns that are keys, names, nicks or fixed values: never masked (a test checks that
# every string column of every staged table is in exactly one of the two lists). Orders keep
# no receiver name, address or phone at all (the readers never read them).
STRUCTURAL: dict[str, tuple[str, ...]] = {
    "messages": ("shop", "agent_account", "buyer", "sender", "sender_role", "event", "transfer_from",
                 "transfer_to", "read_status"),
    "orders": ("buyer", "shop", "status", "title", "layout"),
    "refunds": ("buyer", "title", "refund_kind", "status", "goods_status", "cs_intervention",
                "responsibility", "phase", "full_or_partial", "reviewer", "operator"),
    "complaints": ("kind", "agent_account", "buyer"),
    "reviews": ("kind", "agent_account", "buyer"),
    "ratings": ("rating_month", "agent_account", "cooperation", "execution", "quality_override",
                "complaint_override"),
    "roster": ("agent_account", "name", "role", "dingtalk_name"),
    "attendance": ("dingtalk_name", "status"),
    "attendance_summary": ("dingtalk_name", "department"),
    "agent_stats": ("source", "agent_nick", "group_name"),
    "sla_tickets": ("channel", "customer", "vehicle_model", "fault_category", "staff", "team", "status",
                    "fee_approver"),
    "sla_calls": ("kind", "customer", "staff", "team"),
    "sla_staff": ("staff", "team"),
    "sla_part_receipts": ("part_name", "supplier", "handler"),
    "sla_part_requisitions": ("part_name", "staff", "approver", "approval", "fault_supplier", "station",
                              "handler_signed", "leader_signed", "writeoff_approver"),
    "sla_part_returns": ("part_name", "staff", "processing"),
    "sla_station_stock": ("part_name", "station"),
    "sla_stocktakes": ("part_name", "counter"),
    "sla_claims": ("supplier", "part_name", "status"),
}
QUARANTINE_TEXT = ("reason", "raw")


class PrivacySettings(BaseModel):
    """The ``privacy:`` block of data/settings.yaml: what the warehouse stores masked."""

    model_config = ConfigDict(extra="forbid", strict=True)
    version: int = 1
    mask_phones: bool = True
    mask_id_cards: bool = True
    mask_addresses: bool = True

    @property
    def enabled(self) -> bool:
        return self.mask_phones or self.mask_id_cards or self.mask_addresses


class PrivacySettingsError(ValueError):
    """The ``privacy:`` block of the settings file is invalid."""


def parse_privacy(data: object) -> PrivacySettings:
    """Validate a ``privacy:`` block (None → defaults: mask everything)."""
    if data is None:
        return PrivacySettings()
    if not isinstance(data, dict):
        raise PrivacySettingsError("settings.yaml privacy: 应为映射, 例如 privacy: {mask_phones: true}")
    try:
        return PrivacySettings.model_validate(data)
    except ValidationError as e:
        bad = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors())
        raise PrivacySettingsError(f"settings.yaml privacy: 无效 ({bad}); 可用: mask_phones/mask_id_cards/mask_addresses: true|false") from None


@cache
def load_privacy(path: str | None = None) -> PrivacySettings:
    """The ``privacy:`` block of the settings file (default data/settings.yaml); a missing
    file or block means the defaults (mask everything)."""
    p = Path(path) if path else SETTINGS_PATH
    data = None
    if p.exists():
        try:
            doc = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except (UnicodeDecodeError, yaml.YAMLError) as e:
            raise PrivacySettingsError(f"{p}: 无法读取 ({type(e).__name__})") from None
        data = doc.get("privacy") if isinstance(doc, dict) else None
    return parse_privacy(data)


def _mask_columns(frame: pl.DataFrame, cols: tuple[str, ...], s: PrivacySettings) -> pl.DataFrame:
    present = [c for c in cols if c in frame.columns and frame.schema[c] == pl.String]
    if not present or not frame.height:
        return frame
    return frame.with_columns(
        mask_pii_stored(frame[c], phones=s.mask_phones, id_cards=s.mask_id_cards, addresses=s.mask_addresses)
        for c in present
    )


def mask_staged(kind: str, loaded: pl.DataFrame, quarantine: pl.DataFrame,
                settings: PrivacySettings | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Mask the free text of one staged batch of ``kind`` and its quarantine rows."""
    s = settings if settings is not None else load_privacy()
    if not s.enabled:
        return loaded, quarantine
    return _mask_columns(loaded, FREE_TEXT.get(kind, ()), s), _mask_columns(quarantine, QUARANTINE_TEXT, s)


BUYER_TABLES = ("messages", "orders", "refunds", "complaints", "reviews")


def month_buyer_nicks(month: str, warehouse_path: str | Path | None = None) -> list[str]:
    """Every buyer nick the warehouse holds for ``month`` (for masking free-form output such
    as ``kefu explain``, where a nick can sit inside a note or an excerpt)."""
    from pipelines import warehouse

    present = set(warehouse.tables(warehouse_path))
    parts = [
        f'SELECT DISTINCT buyer FROM "{t}" WHERE month = ? AND buyer IS NOT NULL' for t in BUYER_TABLES if t in present
    ]
    if not parts:
        return []
    sql = " UNION ".join(parts)
    return warehouse.query(sql, warehouse_path, [month] * len(parts))["buyer"].to_list()
