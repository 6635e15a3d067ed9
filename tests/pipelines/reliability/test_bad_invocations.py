"""No traceback for anything a user can cause (issue 9, guarantee 6): a table of bad
invocations, each with its exit code and the words the user needs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import EXIT_INPUT, app
from pipelines.sample import generate
from scoring import DEFAULT_RULES_PATH

MONTH = "2026-10"
ROOT = Path(__file__).resolve().parents[3]
runner = CliRunner()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    base = tmp_path_factory.mktemp("bad")
    generate(MONTH, base / "inbox", agents=3, seed=41)
    gbk = base / "gbk_rules.yaml"
    gbk.write_bytes(DEFAULT_RULES_PATH.read_text("utf-8").replace("version: 1", "version: 1  # 规则").encode("gbk"))
    (base / "bad_rules.yaml").write_text("version: 1\nitems: [oops\n", encoding="utf-8")
    (base / "empty").mkdir()
    markup = base / "markup"
    markup.mkdir()
    (markup / "chat.csv").write_text(
        "店铺,客服账号,买家,发送方,发送方角色,发送时间,内容\n店[/bold],店:[red]x,买家,买家,买家,[/bold],[/]\n", encoding="utf-8"
    )
    return base


def cases(base: Path):
    w, o, i = str(base / "w.duckdb"), str(base / "out"), str(base / "inbox")
    run = ["run", "-w", w, "-o", o, "--no-prefect", "-i", i]
    return [
        # (argv, exit code, words in the output)
        (["run", "-m", "2026-13", "-w", w, "--no-prefect"], 2, "YYYY-MM"),
        (["run", "-m", "202610", "-w", w, "--no-prefect"], 2, "YYYY-MM"),
        (["run", "-m", "2026/10", "-w", w, "--no-prefect"], 2, "YYYY-MM"),
        (["ingest", "-m", "26-10", "-i", i, "-w", w], 2, "YYYY-MM"),
        (["explain", "-m", "2026-00", "-a", "x", "-w", w], 2, "YYYY-MM"),
        ([*run, "-m", MONTH, "-r", str(base / "missing.yaml")], EXIT_INPUT, "规则文件不存在"),
        ([*run, "-m", MONTH, "-r", str(base / "gbk_rules.yaml")], EXIT_INPUT, "UTF-8"),
        ([*run, "-m", MONTH, "-r", str(base / "bad_rules.yaml")], EXIT_INPUT, "规则文件无效"),
        ([*run, "-m", MONTH, "--allow-missing", "nonsense"], 2, "nonsense"),
        (["ingest", "-m", MONTH, "-i", str(base / "no_such_dir"), "-w", w], EXIT_INPUT, "收件箱目录不存在"),
        (["ingest", "-m", MONTH, "-i", str(base / "markup"), "-w", w, "--allow-missing", "orders,refunds,attendance,workbook"], 0, "[/bold]"),
        (["explain", "-m", "2026-09", "-a", "x", "-w", w], EXIT_INPUT, "2026-09"),
        (["report", "-m", "2026-09", "-w", w, "-o", o], EXIT_INPUT, "2026-09"),
        (["score", "-m", "2026-09", "-w", w, "-o", o], EXIT_INPUT, "2026-09"),
        (["sla", "-m", MONTH, "-i", str(base / "empty"), "-w", w, "--now", "tomorrow"], 2, "--now"),
        (["sla", "-m", MONTH, "-i", str(base / "empty"), "-w", w, "-r", str(base / "gbk_rules.yaml")], EXIT_INPUT, ""),
    ]


def test_bad_invocations_exit_cleanly(env):
    for argv, code, words in cases(env):
        res = runner.invoke(app, argv)
        shown = " ".join(argv)
        assert res.exit_code == code, f"{shown}\n{res.output}"
        assert res.exception is None or isinstance(res.exception, SystemExit), f"{shown}: {res.exception!r}"
        assert "Traceback" not in res.output, shown
        assert words in res.output, f"{shown}\n{res.output}"


def test_a_real_process_prints_no_traceback(env):
    """The same through a real process (typer's own exception printing included)."""
    for argv in (["run", "-m", "2026-13", "--no-prefect"], ["report", "-m", "2026-09", "-w", str(env / "w.duckdb")]):
        p = subprocess.run(
            [sys.executable, "-m", "pipelines.cli", *argv], cwd=ROOT, capture_output=True, text=True,
            env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120,
        )
        assert p.returncode in (2, EXIT_INPUT), p.stderr
        assert "Traceback" not in p.stdout + p.stderr
