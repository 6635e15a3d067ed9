"""Inbox → recognised files → staged tables → warehouse (one month, atomically).

Steps: list the inbox; recognise each file by content (or the manifest's pin); read every
file BEFORE touching the warehouse (an unreadable file fails the whole ingest, naming it);
stage each batch (quarantine, month filter); drop duplicates across files; then replace
the month in one transaction and log the run with per-file accounting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl
import yaml

from pipelines import readers, warehouse
from pipelines.io.source import SourceFile, UnreadableFile
from pipelines.io.encoding import UndecodableFile
from contracts.staged import TABLES
from pipelines.staging.privacy import PrivacySettingsError, load_privacy
from contracts.sla import SLA_TABLES
from pipelines.staging.stage import MUST_AGREE, Counts, conflicting_duplicates, dedupe, empty_quarantine, empty_staged, stage_batch

SLA_KINDS = frozenset(SLA_TABLES)
KPI_KINDS = frozenset(TABLES) - SLA_KINDS
MANIFEST_NAMES = ("kefu-manifest.yaml", "kefu-manifest.yml", "manifest.yaml")


class IngestError(Exception):
    """A fatal input error: nothing was written to the warehouse."""


@dataclass
class FileResult:
    file_name: str
    sha256: str
    layout: str | None
    encoding: str | None
    counts: dict[str, Counts] = field(default_factory=dict)  # per kind
    notes: list[str] = field(default_factory=list)
    status: str = "loaded"  # loaded / unrecognised

    def rows(self) -> list[dict]:
        base = dict(file_name=self.file_name, sha256=self.sha256, layout=self.layout, encoding=self.encoding, status=self.status, notes="; ".join(self.notes) or None)
        if not self.counts:
            return [dict(base, kind=None, rows_read=0, loaded=0, quarantined=0, out_of_month=0, duplicates=0)]
        return [dict(base, kind=k, **vars(c)) for k, c in self.counts.items()]


@dataclass
class IngestReport:
    month: str
    run_id: str
    files: list[FileResult]
    tables: dict[str, pl.DataFrame]
    quarantine: pl.DataFrame
    unknown_agents: list[str]
    unknown_attendance_names: list[str]
    diff: object = None  # pipelines.completeness.LoadDiff against the month's last load

    @property
    def unrecognised(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "unrecognised"]

    def accounting(self) -> pl.DataFrame:
        rows = [r for f in self.files for r in f.rows()]
        return pl.DataFrame(rows, schema={
            "file_name": pl.String, "layout": pl.String, "kind": pl.String, "encoding": pl.String,
            "rows_read": pl.Int64, "loaded": pl.Int64, "quarantined": pl.Int64, "out_of_month": pl.Int64,
            "duplicates": pl.Int64, "status": pl.String, "notes": pl.String, "sha256": pl.String,
        })


def load_manifest(inbox: Path) -> dict[str, str]:
    """Optional ``kefu-manifest.yaml`` in the inbox: ``files: {file name: layout}``."""
    for name in MANIFEST_NAMES:
        p = inbox / name
        if p.exists():
            data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
            pins = data.get("files", data) if isinstance(data, dict) else None
            if not isinstance(pins, dict):
                raise IngestError(f"{name}: 清单格式应为 files: {{文件名: 类型}}")
            unknown = {v for v in pins.values() if v not in readers.registry()}
            if unknown:
                raise IngestError(f"{name}: 未知的文件类型 {sorted(unknown)}; 可用: {sorted(readers.registry())}")
            return {str(k): str(v) for k, v in pins.items()}
    return {}


def inbox_files(inbox: Path) -> list[Path]:
    if not inbox.is_dir():
        raise IngestError(f"收件箱目录不存在: {inbox}")
    return sorted(
        p for p in inbox.rglob("*")
        if p.is_file() and not p.name.startswith((".", "~$")) and p.name not in MANIFEST_NAMES
    )


def read_inbox(month: str, inbox: Path, kinds: frozenset[str] | None = None) -> tuple[list[FileResult], dict[str, list[pl.DataFrame]], list[pl.DataFrame]]:
    """Read and stage every file whose reader produces ``kinds`` (default: the KPI tables).
    Files of the other domain (SLA workbooks in a KPI inbox and vice versa) are listed with
    status ``other_domain``. Raises IngestError on a file that cannot be read at all."""
    kinds = kinds or KPI_KINDS
    try:
        load_privacy()  # stage_batch masks with it: a bad privacy: block fails here, clearly
    except PrivacySettingsError as e:
        raise IngestError(str(e)) from e
    pins = load_manifest(inbox)
    results: list[FileResult] = []
    staged: dict[str, list[pl.DataFrame]] = {}
    quarantines: list[pl.DataFrame] = []
    for path in inbox_files(inbox):
        rel = str(path.relative_to(inbox))
        src = SourceFile(path)
        try:
            fmt = src.format
            if fmt == "binary":
                raise UnreadableFile("不是可识别的导出文件(二进制内容)")
            pinned = pins.get(rel) or pins.get(path.name)
            if pinned:
                reader = readers.get(pinned)
                if reader.sniff(src) < 0.5:
                    _, missing = reader.diagnose(src)
                    if missing:
                        raise readers.MissingColumns(reader.description, missing)
                    raise UnreadableFile(f"清单指定为 {pinned}, 但文件内容不是这种格式")
            else:
                reader, _ = readers.detect(src)
                if reader is None and fmt in ("xlsx", "xls"):
                    src.sheets()  # a corrupt workbook raises here: fatal, not 'unrecognised'
                if reader is None:
                    # most of a known layout but a required header renamed/deleted: broken, not unknown
                    broken = readers.resembling(src)
                    if broken is not None:
                        raise readers.MissingColumns(broken[0].description, broken[1])
            encoding = src.encoding if fmt in ("text", "json") else None
            if reader is None:
                results.append(FileResult(rel, src.sha256, None, encoding, status="unrecognised", notes=[f"无法识别的文件 (格式: {fmt})"]))
                continue
            if not set(reader.kinds) & kinds:
                other = "SLA(kefu sla)" if set(reader.kinds) & SLA_KINDS else "KPI(kefu ingest)"
                results.append(FileResult(rel, src.sha256, reader.layout, encoding, status="other_domain", notes=[f"属于{other}, 本次不导入"]))
                continue
            batches = reader.read(src)
        except (UnreadableFile, UndecodableFile, OSError, readers.MissingColumns, readers.SniffError) as e:
            raise IngestError(f"{rel}: {e}") from e
        except IngestError:
            raise
        except Exception as e:  # a reader bug or a file it could not parse at all
            raise IngestError(f"{rel}: 读取失败 ({type(e).__name__}: {e})") from e
        fr = FileResult(rel, src.sha256, reader.layout, encoding)
        for b in batches:
            loaded, quarantine, counts = stage_batch(b.kind, b.frame, month, rel)
            staged.setdefault(b.kind, []).append(loaded)
            quarantines.append(quarantine)
            fr.counts.setdefault(b.kind, Counts()).add(counts)
            fr.notes.extend(b.notes)
        results.append(fr)
    return results, staged, quarantines


def stage_inbox(month: str, inbox: str | Path, kinds: frozenset[str] | None = None) -> tuple[list[FileResult], dict[str, pl.DataFrame], pl.DataFrame]:
    """Read, stage and dedupe an inbox without touching the warehouse.

    Returns (per-file results, one staged frame per kind of ``kinds``, quarantine rows)."""
    kinds = kinds or KPI_KINDS
    results, staged, quarantines = read_inbox(month, Path(inbox), kinds)
    conflicts = [c for kind in MUST_AGREE if kind in kinds for c in conflicting_duplicates(kind, staged.get(kind, []))]
    if conflicts:
        raise IngestError("同一客服账号有多行且内容不一致(请只保留一行):\n" + "\n".join(f"  - {c}" for c in conflicts))
    by_name = {f.file_name: f for f in results}
    tables: dict[str, pl.DataFrame] = {}
    for kind in sorted(kinds):
        table = TABLES[kind]
        frame, dup_per_file = dedupe(table, staged.get(kind, []))
        tables[kind] = frame if frame.height else empty_staged(table)
        for fname, n in dup_per_file.items():
            c = by_name[fname].counts[kind]
            c.duplicates += n
            c.loaded -= n
    quarantine = pl.concat([q for q in quarantines if q.height] or [empty_quarantine()], how="vertical_relaxed")
    for f in results:
        for kind, c in f.counts.items():
            if not c.balanced:
                raise AssertionError(f"row accounting broken for {f.file_name}/{kind}: {c}")
    return results, tables, quarantine


def stage_into(
    build,
    inbox: str | Path,
    domain: str = "kpi",
    allow_missing: set[str] | None = None,
    replace: bool = False,
) -> IngestReport:
    """Read, stage and check one month's inbox, and write its ``domain`` tables ('kpi' or
    'sla') and quarantine into ``build`` (a :class:`pipelines.publish.MonthBuild`).

    Raises IngestError (nothing written) for an unreadable file or an incomplete inbox
    (:mod:`pipelines.completeness`); ``allow_missing``/``replace`` accept a smaller inbox."""
    from pipelines.completeness import IncompleteInbox, check_inbox
    from pipelines.publish import pause_point

    started = datetime.now()
    inbox = Path(inbox)
    kinds = SLA_KINDS if domain == "sla" else KPI_KINDS
    results, tables, quarantine = stage_inbox(build.month, inbox, kinds)
    pause_point("inbox-read")
    try:
        diff = check_inbox(results, tables, build.warehouse_path, build.month, domain, allow_missing, replace, build.shop)
    except IncompleteInbox as e:
        raise IngestError(str(e)) from e
    unknown_agents, unknown_names = roster_gaps(tables) if domain == "kpi" else ([], [])
    run = warehouse.RunRecord(
        build.month,
        f"ingest-{domain}",
        started,
        details={
            "inbox": str(inbox),
            "shop": build.shop,
            "unknown_agents": unknown_agents,
            "unrecognised": [f.file_name for f in results if f.status == "unrecognised"],
            "replaced_run": diff.previous_run,
            "files_added": diff.files_added,
            "files_removed": diff.files_removed,
            "allow_missing": sorted(allow_missing or ()),
        },
        files=[r for f in results for r in f.rows()],
    )
    build.write_all(tables)
    build.write("quarantine" if domain == "kpi" else "sla_quarantine", quarantine)
    build.log(run)
    pause_point("ingest-built")
    rep = IngestReport(build.month, run.run_id, results, tables, quarantine, unknown_agents, unknown_names)
    rep.diff = diff
    return rep


def ingest(
    month: str,
    inbox: str | Path,
    warehouse_path: str | Path | None = None,
    domain: str = "kpi",
    allow_missing: set[str] | None = None,
    replace: bool = False,
    out: str | Path | None = None,
) -> IngestReport:
    """Load one month's inbox into the warehouse (``kefu ingest``): replace that month's
    ``domain`` tables and its quarantine in one transaction, or change nothing.

    ``out`` holds the run's temporary build folder (default: beside the warehouse)."""
    from pipelines.publish import failure_log, month_build

    wh = warehouse.resolve(warehouse_path)
    started = datetime.now()
    try:
        with month_build(month, wh, Path(out) if out else wh.parent, domain, f"kefu ingest {month}") as build:
            rep = stage_into(build, inbox, domain, allow_missing, replace)
            build.publish()
            return rep
    except IngestError as e:
        failure_log(wh, {"month": month, "step": f"ingest-{domain}", "started_at": started, "error": str(e)})
        raise


def roster_gaps(tables: dict[str, pl.DataFrame]) -> tuple[list[str], list[str]]:
    """Agent accounts seen in chats/refunds/complaints/reviews but not in the roster, and
    DingTalk names in attendance that match no roster 钉钉姓名/姓名."""
    roster = tables.get("roster")
    known = set(roster["agent_account"].to_list()) if roster is not None and roster.height else set()
    seen: set[str] = set()
    msgs = tables.get("messages")
    if msgs is not None and msgs.height:
        seen |= set(msgs.filter(pl.col("sender_role") == "agent")["agent_account"].unique().to_list())
    for kind in ("complaints", "reviews"):
        t = tables.get(kind)
        if t is not None and t.height:
            seen |= set(t["agent_account"].drop_nulls().unique().to_list())
    unknown_agents = sorted(a for a in seen - known if a)
    names: set[str] = set()
    if roster is not None and roster.height:
        names = set(roster.select(pl.coalesce("dingtalk_name", "name"))["dingtalk_name"].to_list())
    att = tables.get("attendance")
    unknown_names = sorted(set(att["dingtalk_name"].unique().to_list()) - names) if att is not None and att.height else []
    return unknown_agents, unknown_names
