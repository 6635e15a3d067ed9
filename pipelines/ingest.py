"""Inbox → recognised files → staged tables → warehouse (one month, atomically).

Steps: list the inbox; recognise each file by content (or the manifest's pin); read every
file BEFORE touching the warehouse (an unreadable file fails the whole ingest, naming it);
stage each batch (quarantine, month filter); drop duplicates across files; then replace
the month in one transaction and log the run with per-file accounting.

Files are read and staged one at a time (a big batch in slices of :data:`SLICE_ROWS` rows):
the rows of the big kinds (:data:`STREAMED_KINDS`) go straight into the run's build as one
part per file (or per slice of a big file), in file order, and are deduped
across files by their key hashes afterwards (:mod:`pipelines.staging.dedupe_parts`), so the
memory of an ingest is bounded by its largest file, not by the month.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl
import yaml

from pipelines import readers, warehouse
from pipelines.io.ahead import ordered_map, read_ahead
from pipelines.io.source import SourceFile, UnreadableFile
from pipelines.io.encoding import UndecodableFile
from contracts.staged import TABLES
from pipelines.staging.privacy import PrivacySettingsError, load_privacy
from contracts.sla import SLA_TABLES
from pipelines.staging.stage import MUST_AGREE, Counts, conflicting_duplicates, dedupe, empty_quarantine, empty_staged, stage_batch
from pipelines.staging.dedupe_parts import FileParts, FrameParts, dedupe_parts, key_hashes

SLA_KINDS = frozenset(SLA_TABLES)
KPI_KINDS = frozenset(TABLES) - SLA_KINDS
MANIFEST_NAMES = ("kefu-manifest.yaml", "kefu-manifest.yml", "manifest.yaml")
# The big kinds: staged file by file straight into the build as ordered parts (one per file
# or slice) and deduped across files by key hash, so memory is bounded by the largest file, not by the
# month. The other kinds are small (roster, attendance, ...) and stay in memory.
STREAMED_KINDS = frozenset({"messages", "orders", "refunds"})
# Rows of one batch staged at once, and the most rows of a streamed kind in one part: the
# staging intermediates (several times the source text) are bounded by this, not by the file.
SLICE_ROWS = 250_000
# Reader batches (chunks of a big file) parsed ahead of the staging, in a background thread
# (0: read in the staging thread).
READ_AHEAD = 2
# Slices staged at once, in threads (polars releases the GIL while it computes), handed on
# in order (1: one after the other in the staging thread).
STAGE_WORKERS = 2
# Parts waiting to be hashed and written by the writing thread (staging waits beyond).
WRITES_AHEAD = 2
NICK_KINDS = ("messages", "refunds", "complaints", "reviews")  # staged buyer nicks the console masks


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
    tables: dict[str, pl.DataFrame]  # staged frames of the in-memory kinds (not STREAMED_KINDS)
    quarantine: pl.DataFrame
    unknown_agents: list[str]
    unknown_attendance_names: list[str]
    diff: object = None  # pipelines.completeness.LoadDiff against the month's last load
    rows: dict[str, int] = field(default_factory=dict)  # rows per staged table written (every kind)
    buyers: pl.Series | None = None  # distinct buyer nicks of the streamed kinds

    def buyer_nicks(self) -> set[str]:
        """Every staged buyer nick (outputs mask them wherever they appear)."""
        nicks: set[str] = set(self.buyers.drop_nulls().to_list()) if self.buyers is not None else set()
        for kind in NICK_KINDS:
            t = self.tables.get(kind)
            if t is not None and "buyer" in t.columns:
                nicks |= set(t["buyer"].drop_nulls().unique().to_list())
        return nicks

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


def iter_inbox(
    month: str, inbox: Path, kinds: frozenset[str] | None = None
) -> Iterator[tuple[FileResult, str | None, pl.DataFrame | None, pl.DataFrame | None]]:
    """Read and stage the inbox ONE FILE AT A TIME, in file order, each batch in slices of
    :data:`SLICE_ROWS` rows: yields (file result, kind, staged rows, quarantine rows) per
    slice, then (file result, None, None, None) when the file is done, so a caller holds
    one file's source rows and one slice's staged rows at a time (staging is row by row:
    slicing changes no value, order or count). Only files whose reader produces ``kinds``
    (default: the KPI tables) are read; files of the other domain (SLA workbooks in a KPI
    inbox and vice versa) are listed with status ``other_domain``. Raises IngestError on a
    file that cannot be read at all.

    Reading (sniffing, hashing, parsing: :func:`_read_inbox`) runs up to :data:`READ_AHEAD`
    batches ahead in a background thread, and up to :data:`STAGE_WORKERS` slices are staged
    at once in threads (see :mod:`pipelines.io.ahead`); the order of files, slices and
    errors is unchanged."""
    kinds = kinds or KPI_KINDS
    try:
        load_privacy()  # stage_batch masks with it: a bad privacy: block fails here, clearly
    except PrivacySettingsError as e:
        raise IngestError(str(e)) from e
    pins = load_manifest(inbox)

    def stage(job: _SliceJob) -> tuple[_SliceJob, tuple | None]:
        fr, b, start, _ = job
        return job, (None if b is None else stage_batch(b.kind, b.frame.slice(start, SLICE_ROWS), month, fr.file_name, b.clean))

    with closing(read_ahead(_read_inbox(inbox, pins, kinds), READ_AHEAD)) as batches, \
            closing(ordered_map(stage, _slice_jobs(batches), STAGE_WORKERS)) as staged:
        for (fr, b, _, last), result in staged:
            if b is None:  # the file is done (or not read: unrecognised, other domain)
                yield fr, None, None, None
                continue
            loaded, quarantine, counts = result
            del result
            fr.counts.setdefault(b.kind, Counts()).add(counts)
            yield fr, b.kind, loaded, quarantine
            del loaded, quarantine
            if last:
                fr.notes.extend(b.notes)
            del b


# (file result, batch or None when the file is done, first row of the slice, last slice of the batch)
_SliceJob = tuple[FileResult, "readers.Batch | None", int, bool]


def _slice_jobs(batches: Iterator[tuple[FileResult, readers.Batch | None]]) -> Iterator[_SliceJob]:
    """Each batch of :func:`_read_inbox` as its slices of :data:`SLICE_ROWS` rows, in order."""
    for fr, b in batches:
        if b is None:
            yield fr, None, 0, True
            continue
        starts = range(0, max(b.frame.height, 1), SLICE_ROWS)
        for start in starts:
            yield fr, b, start, start == starts[-1]
        del b


def _read_inbox(inbox: Path, pins: dict[str, str], kinds: frozenset[str]) -> Iterator[tuple[FileResult, readers.Batch | None]]:
    """The reader side of :func:`iter_inbox`: each file recognised and read, as (its result,
    batch) per batch then (its result, None); raises IngestError for an unreadable file.
    The next big file is hashed and checked (:meth:`SourceFile.scan_ahead`, in another
    thread) while the files before it are read."""
    paths = inbox_files(inbox)
    sources: list[SourceFile | None] = [SourceFile(p) for p in paths]
    scans = ThreadPoolExecutor(1, thread_name_prefix="kefu-scan-ahead")
    try:
        for i, path in enumerate(paths):
            # the next big file only: a GBK one's UTF-8 copy (on /tmp, maybe in memory) exists
            # from its scan until it is read, so at most two such copies exist at once
            for later in sources[i + 1:]:
                if later is not None and later.scan_ahead(scans):
                    break
            src, sources[i] = sources[i], None
            read = _read_file(src, str(path.relative_to(inbox)), pins, kinds)
            del src  # held by the file's reading alone (freed as soon as its batches are read)
            yield from read
    finally:
        scans.shutdown(wait=True, cancel_futures=True)


def _read_file(src: SourceFile, rel: str, pins: dict[str, str], kinds: frozenset[str]) -> Iterator[tuple[FileResult, readers.Batch | None]]:
    """One file of :func:`_read_inbox`."""
    path = src.path
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
            yield FileResult(rel, src.sha256, None, encoding, status="unrecognised", notes=[f"无法识别的文件 (格式: {fmt})"]), None
            return
        if not set(reader.kinds) & kinds:
            other = "SLA(kefu sla)" if set(reader.kinds) & SLA_KINDS else "KPI(kefu ingest)"
            yield FileResult(rel, src.sha256, reader.layout, encoding, status="other_domain", notes=[f"属于{other}, 本次不导入"]), None
            return
        batches = reader.read(src)
    except IngestError:
        raise
    except Exception as e:
        raise _read_error(rel, e) from e
    fr = FileResult(rel, src.sha256, reader.layout, encoding)
    del src  # its cached bytes and decoded text (several times the file) before staging
    for b in _each_batch(rel, batches):
        yield fr, b
        del b
    del batches
    yield fr, None


def _read_error(rel: str, e: Exception) -> IngestError:
    if isinstance(e, (UnreadableFile, UndecodableFile, OSError, readers.MissingColumns, readers.SniffError)):
        return IngestError(f"{rel}: {e}")
    return IngestError(f"{rel}: 读取失败 ({type(e).__name__}: {e})")  # a reader bug or a file it could not parse at all


def _each_batch(rel: str, batches) -> Iterator:
    """A reader's batches one at a time: a list is emptied as it goes (each batch's source
    rows are freed once staged); any other iterable is read lazily (a reader may yield a
    big file in chunks of rows), its errors naming the file like any read error."""
    if isinstance(batches, list):
        while batches:
            yield batches.pop(0)
        return
    it = iter(batches)
    while True:
        try:
            b = next(it)
        except StopIteration:
            return
        except IngestError:
            raise
        except Exception as e:
            raise _read_error(rel, e) from e
        yield b


@dataclass
class StagedInbox:
    """One inbox staged and deduped (see :func:`stage_files`).

    ``tables``: the in-memory kinds (every kind but :data:`STREAMED_KINDS`, which live in
    ``parts``: one part per file or file slice, in file order); ``rows``: rows per kind
    after dedupe."""

    results: list[FileResult]
    tables: dict[str, pl.DataFrame]
    parts: dict[str, FrameParts | FileParts]
    rows: dict[str, int]
    quarantine: pl.DataFrame

    def lazy(self, kind: str) -> pl.LazyFrame | None:
        """A streamed kind's deduped rows, lazily (None: not streamed or no rows)."""
        p = self.parts.get(kind)
        if p is None or not len(p):
            return None
        if isinstance(p, FileParts):
            return pl.scan_parquet(p.paths)
        return pl.concat(p.frames, how="vertical_relaxed").lazy()

    def frame(self, kind: str) -> pl.DataFrame:
        """The deduped rows of ``kind`` in memory (tests and small inboxes only)."""
        if kind not in self.parts:
            return self.tables[kind]
        lf = self.lazy(kind)
        return lf.collect() if lf is not None else empty_staged(TABLES[kind])


def stage_files(month: str, inbox: str | Path, kinds: frozenset[str] | None = None, build=None) -> StagedInbox:
    """Read, stage and dedupe an inbox file by file, holding one file's rows at a time.

    Rows of :data:`STREAMED_KINDS` go, as soon as their slice is staged, into ``build`` (a
    :class:`pipelines.publish.MonthBuild`, as ordered parts of the table: one per file, or
    per :data:`SLICE_ROWS` rows of a big file) or into memory
    (``build`` None); only their key hashes stay (8 bytes a row) for the dedupe across
    files (:mod:`pipelines.staging.dedupe_parts`). Raises IngestError for an unreadable
    file or roster/ratings rows that disagree."""
    kinds = kinds or KPI_KINDS
    streamed = sorted(STREAMED_KINDS & kinds)
    results: list[FileResult] = []
    small: dict[str, list[pl.DataFrame]] = {}
    if build is not None:
        from pipelines.publish import BUILD_COMPRESSION
    parts: dict[str, FrameParts | FileParts] = {
        k: FrameParts() if build is None else FileParts(compression=BUILD_COMPRESSION) for k in streamed
    }
    hashes: dict[str, list[pl.Series]] = {k: [] for k in streamed}
    kept = dict.fromkeys(streamed, 0)
    quarantines: list[pl.DataFrame] = []
    if build is not None:
        for kind in streamed:
            build.start_parts(kind)  # the run's table from now on, even with no rows
    buffered: dict[str, list[pl.DataFrame]] = {k: [] for k in streamed}

    # parts are hashed and written in order by one more thread (parquet writes release the
    # GIL) while this one stages the next slices; at most WRITES_AHEAD wait to be written
    writer = ThreadPoolExecutor(1, thread_name_prefix="kefu-write-parts")
    writes: deque[tuple[str, Future]] = deque()  # (kind, (part path or frame, key hashes)) in order

    def settle(keep: int) -> None:  # the oldest writes done, in order, until ``keep`` remain
        while len(writes) > keep:
            kind, fut = writes.popleft()
            part, h = fut.result()
            hashes[kind].append(h)
            if build is None:
                parts[kind].frames.append(part)
            else:
                parts[kind].paths.append(part)

    def write(kind: str, frame: pl.DataFrame) -> tuple[Path | pl.DataFrame, pl.Series]:
        return (frame if build is None else build.write_part(kind, frame)), key_hashes(kind, frame)

    def flush(kind: str) -> None:  # the buffered slices of one file become one part
        frame = pl.concat(buffered[kind], how="vertical_relaxed") if len(buffered[kind]) > 1 else buffered[kind][0]
        buffered[kind].clear()
        kept[kind] += frame.height
        writes.append((kind, writer.submit(write, kind, frame)))
        del frame
        settle(WRITES_AHEAD)

    # closed on any error here too: the read-ahead thread stops before this returns
    with closing(iter_inbox(month, Path(inbox), kinds)) as staged_slices, _shut_down(writer):
        for fr, kind, loaded, quarantine in staged_slices:
            if kind is None:  # the file is done
                results.append(fr)
                for k in streamed:
                    if buffered[k]:
                        flush(k)
                continue
            if quarantine.height:
                quarantines.append(quarantine)
            if kind not in parts:
                small.setdefault(kind, []).append(loaded)
            elif loaded.height:
                buffered[kind].append(loaded)
                if sum(f.height for f in buffered[kind]) >= SLICE_ROWS:
                    flush(kind)
            del loaded, quarantine
        settle(0)
    conflicts = [c for kind in MUST_AGREE if kind in kinds for c in conflicting_duplicates(kind, small.get(kind, []))]
    if conflicts:
        raise IngestError("同一客服账号有多行且内容不一致(请只保留一行):\n" + "\n".join(f"  - {c}" for c in conflicts))
    by_name = {f.file_name: f for f in results}
    tables: dict[str, pl.DataFrame] = {}
    rows: dict[str, int] = {}
    for kind in sorted(kinds):
        table = TABLES[kind]
        if kind in parts:
            dup_per_file = dedupe_parts(table, parts[kind], hashes.pop(kind))
            rows[kind] = kept[kind] - sum(dup_per_file.values())
        else:
            frame, dup_per_file = dedupe(table, small.pop(kind, []))
            tables[kind] = frame if frame.height else empty_staged(table)
            rows[kind] = frame.height
        for fname, n in dup_per_file.items():
            c = by_name[fname].counts[kind]
            c.duplicates += n
            c.loaded -= n
    quarantine = pl.concat(quarantines or [empty_quarantine()], how="vertical_relaxed")
    for f in results:
        for kind, c in f.counts.items():
            if not c.balanced:
                raise AssertionError(f"row accounting broken for {f.file_name}/{kind}: {c}")
    return StagedInbox(results, tables, parts, rows, quarantine)


@contextmanager
def _shut_down(pool: ThreadPoolExecutor) -> Iterator[ThreadPoolExecutor]:
    """``pool``, shut down on leaving (on an error too: what is queued is cancelled, what
    runs is waited for)."""
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def stage_inbox(month: str, inbox: str | Path, kinds: frozenset[str] | None = None) -> tuple[list[FileResult], dict[str, pl.DataFrame], pl.DataFrame]:
    """Read, stage and dedupe an inbox in memory without touching the warehouse (tests,
    small inboxes; :func:`stage_into` streams the big kinds into the build instead).

    Returns (per-file results, one staged frame per kind of ``kinds``, quarantine rows)."""
    kinds = kinds or KPI_KINDS
    s = stage_files(month, inbox, kinds)
    return s.results, {kind: s.frame(kind) for kind in sorted(kinds)}, s.quarantine


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
    staged = stage_files(build.month, inbox, kinds, build)
    results, tables, quarantine = staged.results, staged.tables, staged.quarantine
    pause_point("inbox-read")
    try:
        diff = check_inbox(results, staged.rows, build.warehouse_path, build.month, domain, allow_missing, replace, build.shop)
    except IncompleteInbox as e:
        raise IngestError(str(e)) from e
    unknown_agents, unknown_names = roster_gaps(tables, message_agents(staged.lazy("messages"))) if domain == "kpi" else ([], [])
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
    rep = IngestReport(build.month, run.run_id, results, tables, quarantine, unknown_agents, unknown_names,
                       rows=staged.rows, buyers=streamed_buyers(staged))
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


def message_agents(messages: pl.LazyFrame | pl.DataFrame | None) -> set[str]:
    """Agent accounts that sent messages (read column by column from the parts)."""
    if messages is None:
        return set()
    lf = messages.lazy().filter(pl.col("sender_role") == "agent").select(pl.col("agent_account").unique())
    return set(lf.collect()["agent_account"].to_list())


def streamed_buyers(staged: StagedInbox) -> pl.Series:
    """Distinct buyer nicks of the streamed kinds (the console masks them: see
    :meth:`IngestReport.buyer_nicks`)."""
    found = [lf.select(pl.col("buyer").unique()).collect()["buyer"] for k in NICK_KINDS if (lf := staged.lazy(k)) is not None]
    return pl.concat(found).unique() if found else pl.Series("buyer", [], pl.String)


def roster_gaps(tables: dict[str, pl.DataFrame], agents: set[str] | None = None) -> tuple[list[str], list[str]]:
    """Agent accounts seen in chats/refunds/complaints/reviews but not in the roster, and
    DingTalk names in attendance that match no roster 钉钉姓名/姓名. ``agents``: the accounts
    that sent messages, when the messages are not in ``tables`` (see :func:`message_agents`)."""
    roster = tables.get("roster")
    known = set(roster["agent_account"].to_list()) if roster is not None and roster.height else set()
    seen: set[str] = set(agents or ())
    msgs = tables.get("messages")
    if msgs is not None and msgs.height:
        seen |= message_agents(msgs)
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
