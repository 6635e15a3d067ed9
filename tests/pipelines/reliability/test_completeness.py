"""Inputs are complete or the run refuses (issue 9, guarantee 2): a month lacking a
required kind, or a kind or file its last load had, exits 3 naming what is missing and
changes nothing, unless the user says so (--allow-missing, --replace)."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from pipelines.cli import EXIT_INPUT, app
from pipelines.sample import generate
from pipelines.templates import write_supervisor_template

from .snapshot import folder_state, warehouse_state

MONTH = "2026-10"
runner = CliRunner()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    base = tmp_path_factory.mktemp("complete")
    summary = generate(MONTH, base / "inbox", agents=4, seed=31)
    wh, out = base / "w.duckdb", base / "out"
    res = runner.invoke(app, ["run", "-m", MONTH, "-i", str(base / "inbox"), "-w", str(wh), "-o", str(out), "--no-prefect"])
    assert res.exit_code in (0, 4), res.output
    return base, summary, wh, out


def layout_file(summary, layout: str) -> str:
    return next(f.name for f in summary.files if f.layout == layout)


def copy_without(base, summary, tmp_path, *layouts):
    inbox = tmp_path / "inbox"
    shutil.copytree(base / "inbox", inbox)
    for layout in layouts:
        for f in summary.files:
            if f.layout == layout:
                (inbox / f.name).unlink()
    return inbox


def run(inbox, wh, out, *extra):
    return runner.invoke(app, ["run", "-m", MONTH, "-i", str(inbox), "-w", str(wh), "-o", str(out), "--no-prefect", *extra])


def test_missing_supervisor_workbook_refuses_and_changes_nothing(loaded, tmp_path):
    base, summary, wh, out = loaded
    inbox = copy_without(base, summary, tmp_path, "supervisor_workbook")
    before = warehouse_state(wh), folder_state(out / MONTH)
    res = run(inbox, wh, out)
    assert res.exit_code == EXIT_INPUT, res.output
    assert "主管填报表" in res.output and "[workbook]" in res.output
    assert layout_file(summary, "supervisor_workbook") in res.output  # the file the last load had
    assert (warehouse_state(wh), folder_state(out / MONTH)) == before


def test_an_empty_template_counts_as_missing(loaded, tmp_path):
    base, summary, wh, out = loaded
    inbox = copy_without(base, summary, tmp_path, "supervisor_workbook")
    write_supervisor_template(inbox / "主管填报表.xlsx")
    before = warehouse_state(wh)
    res = run(inbox, wh, out, "--replace")  # even accepting other differences, no roster is no payroll
    assert res.exit_code == EXIT_INPUT, res.output
    assert "[workbook]" in res.output
    assert warehouse_state(wh) == before


def test_empty_inbox_ingest_refuses(loaded, tmp_path):
    _, _, wh, _ = loaded
    (tmp_path / "empty").mkdir()
    before = warehouse_state(wh)
    res = runner.invoke(app, ["ingest", "-m", MONTH, "-i", str(tmp_path / "empty"), "-w", str(wh)])
    assert res.exit_code == EXIT_INPUT, res.output
    for kind in ("[chats]", "[orders]", "[refunds]", "[attendance]", "[workbook]"):
        assert kind in res.output
    assert warehouse_state(wh) == before


def test_a_file_the_last_load_had_must_be_there_unless_replace(loaded, tmp_path):
    base, summary, wh, out = loaded
    inbox = tmp_path / "inbox"
    shutil.copytree(base / "inbox", inbox)
    chat_file = layout_file(summary, "chat_json")
    (inbox / chat_file).unlink()
    before = warehouse_state(wh)
    res = run(inbox, wh, out)
    assert res.exit_code == EXIT_INPUT, res.output
    assert chat_file in res.output and "--replace" in res.output
    assert warehouse_state(wh) == before
    res = run(inbox, wh, out, "--replace")
    assert res.exit_code in (0, 4), res.output
    assert f"- 缺少文件 {chat_file}" in res.output and "messages:" in res.output  # what changed, before → after


def test_allow_missing_names_the_kind_explicitly(tmp_path):
    summary = generate(MONTH, tmp_path / "inbox", agents=3, seed=32)
    for f in summary.files:
        if f.layout == "refunds":
            (tmp_path / "inbox" / f.name).unlink()
    res = run(tmp_path / "inbox", tmp_path / "w.duckdb", tmp_path / "out")
    assert res.exit_code == EXIT_INPUT and "[refunds]" in res.output
    res = run(tmp_path / "inbox", tmp_path / "w.duckdb", tmp_path / "out", "--allow-missing", "refunds")
    assert res.exit_code in (0, 4), res.output
    res = run(tmp_path / "inbox", tmp_path / "w2.duckdb", tmp_path / "out2", "--allow-missing", "refundz")
    assert res.exit_code == 2 and "refundz" in res.output


def test_renamed_file_with_same_content_is_the_same_file(loaded, tmp_path):
    base, summary, wh, out = loaded
    inbox = tmp_path / "inbox"
    shutil.copytree(base / "inbox", inbox)
    name = layout_file(summary, "refunds")
    (inbox / name).rename(inbox / ("renamed-" + name))
    res = run(inbox, wh, out)
    assert res.exit_code in (0, 4), res.output
