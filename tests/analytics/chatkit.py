"""Builders for hand-made staged ``messages`` frames used by the analytics tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from pipelines.staging.schemas import MESSAGES, POLARS_TYPES

SHOP = "优品家居旗舰店"
A = "优品家居旗舰店:小美"
B = "优品家居旗舰店:小王"
C = "优品家居旗舰店:小李"
SCHEMA = {c.name: POLARS_TYPES[c.type] for c in MESSAGES.cols} | {
    "month": pl.String, "source_file": pl.String, "source_sheet": pl.String, "source_row": pl.Int64}


def ts(day: int, hms: str, month: int = 10) -> datetime:
    h, m, s = (int(x) for x in hms.split(":"))
    return datetime(2026, month, day, h, m, s)


def msg(agent: str, buyer: str, who: str, at: datetime, text: str | None = "", *, auto=False,
        event="message", transfer_to=None, transfer_from=None, system=False) -> dict:
    """One message row. ``who``: 'buyer', 'agent' or 'system'."""
    role = "system" if system else who
    sender = buyer if who == "buyer" else (agent if who == "agent" else "system")
    return dict(shop=SHOP, agent_account=agent, buyer=buyer, sender=sender, sender_role=role,
                sent_at=at, text=text, is_auto_reply=auto, event=event, transfer_from=transfer_from,
                transfer_to=transfer_to, transfer_reason=None, read_status=None)


def frame(rows: list[dict], file: str = "chat.txt") -> pl.DataFrame:
    """Staged frame: seq and source_row follow list order (file order)."""
    out = []
    for i, r in enumerate(rows, start=1):
        out.append(r | dict(seq=i, month=r["sent_at"].strftime("%Y-%m"), source_file=file,
                            source_sheet=None, source_row=i))
    return pl.DataFrame(out, schema=SCHEMA)


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def settings():
    """The project's settings file, parsed (import this fixture into a test module)."""
    from analytics.settings import AnalyticsSettings

    return AnalyticsSettings.from_yaml_text((ROOT / "data" / "settings.yaml").read_text("utf-8"))


@pytest.fixture(scope="session")
def resources(settings):
    """Shipped lexicons, stop words, user dictionary and catalogue."""
    from pipelines.resources import load_text_resources

    return load_text_resources(settings, ROOT / "data")
