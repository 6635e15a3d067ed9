"""DingTalk robot messages against a local HTTP server that checks the signature and payload."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import polars as pl
import pytest

from pipelines import notify
from pipelines.report.bundle import MonthBundle

SECRET = "SEC0123456789abcdef"


class _Robot(BaseHTTPRequestHandler):
    """Answers like DingTalk: errcode 0 for a well-signed markdown message, 310000 otherwise."""

    received: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server API
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        ts, got = q.get("timestamp", [""])[0], q.get("sign", [""])[0]
        want = base64.b64encode(hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()).decode()
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8"))
        ok = ts.isdigit() and got == want and body.get("msgtype") == "markdown" and body["markdown"]["text"]
        type(self).received.append({"ok": bool(ok), "body": body, "query": q})
        answer = {"errcode": 0, "errmsg": "ok"} if ok else {"errcode": 310000, "errmsg": "sign not match"}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def robot():
    _Robot.received = []
    server = HTTPServer(("127.0.0.1", 0), _Robot)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_port}/robot/send?access_token=test"
    server.shutdown()
    server.server_close()


def test_signature_matches_dingtalk_algorithm() -> None:
    # reference value computed by DingTalk's documented steps
    ts = 1700000000000
    digest = hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()
    assert notify.sign(SECRET, ts) == urllib.parse.quote_plus(base64.b64encode(digest))
    url = notify.signed_url(notify.DingTalkConfig("https://x/robot/send?access_token=a", SECRET), ts)
    assert url.startswith("https://x/robot/send?access_token=a&timestamp=1700000000000&sign=")


def test_kpi_message_is_signed_and_received(robot, bundle: MonthBundle) -> None:
    msg = notify.kpi_message("2026-10", bundle.payroll, "out/2026-10/report.html")
    text = notify.send(msg, notify.DingTalkConfig(robot, SECRET))
    assert len(_Robot.received) == 1 and _Robot.received[0]["ok"]
    sent = _Robot.received[0]["body"]["markdown"]["text"]
    assert "达标 1，未达标 1，待补充 1" in sent
    assert "工资总额 ¥5,361.54 = 底薪 ¥4,500.00 + KPI 奖金 ¥861.54（已定稿 2 人）" in sent
    assert "**待补充** 陈静：缺少主管评分: 配合度" in sent and "out/2026-10/report.html" in sent
    assert "tb_hacker01" not in sent and "13812345678" not in sent  # no buyer data in messages
    assert text.startswith("[钉钉] 2026-10 客服 KPI 考核（有待补充）")


def test_wrong_secret_is_an_error_not_silence(robot, bundle: MonthBundle) -> None:
    msg = notify.kpi_message("2026-10", bundle.payroll)
    with pytest.raises(notify.NotifyError, match="310000"):
        notify.send(msg, notify.DingTalkConfig(robot, "wrong-secret"))
    assert not _Robot.received[0]["ok"]


def test_dry_run_prints_and_sends_nothing(robot, bundle: MonthBundle) -> None:
    msg = notify.kpi_message("2026-10", bundle.payroll)
    text = notify.send(msg, notify.DingTalkConfig(robot, SECRET), dry_run=True)
    assert "客服 KPI 考核" in text and _Robot.received == []


def test_sla_warning_message(robot) -> None:
    w = pl.DataFrame({
        "level": ["已超时", "即将超时"], "record_id": ["W9", "W1"], "rule_name": ["24小时到场", "12小时答复"],
        "staff": ["赵磊", "李明"], "deadline": [datetime(2026, 10, 31, 9), datetime(2026, 10, 31, 19)],
        "remaining_s": [-3600.0, 5400.0],
    })
    msg = notify.sla_warning_message("2026-10", w, datetime(2026, 10, 31, 18))
    notify.send(msg, notify.DingTalkConfig(robot, SECRET))
    sent = _Robot.received[0]["body"]["markdown"]["text"]
    assert "已超时 1，即将超时 1" in sent
    assert "已超时 W9 24小时到场（赵磊）期限 2026-10-31 09:00:00，已超时 1小时00分" in sent
    assert "剩余 1小时30分" in sent
    assert notify.sla_warning_message("2026-10", w.head(0), None) is None


def test_config_from_environment(monkeypatch) -> None:
    monkeypatch.setenv(notify.ENV_WEBHOOK, "http://127.0.0.1:9/robot")
    monkeypatch.setenv(notify.ENV_SECRET, SECRET)
    assert notify.load_config(use_blocks=False) == notify.DingTalkConfig("http://127.0.0.1:9/robot", SECRET)
    monkeypatch.delenv(notify.ENV_WEBHOOK)
    assert notify.load_config(use_blocks=False) is None


def test_cli_dry_run(sample_month, capsys) -> None:
    rc = notify.main(["kpi", "--month", "2026-10", "--warehouse", str(sample_month.warehouse), "--dry-run"])
    out = capsys.readouterr().out
    assert rc == 0 and "[钉钉] 2026-10 客服 KPI 考核（有待补充）" in out and "陈志杰" in out
