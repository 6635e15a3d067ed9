"""``render_report(bundle) -> str``: the month's supervisor report as ONE self-contained HTML page.

No external resources (inline CSS, inline SVG charts, one small inline script for table
sorting/filtering, opening agent cards and evidence conversations). Jinja2 autoescape is on: every data string is HTML-escaped; buyer data is masked
in ``sections``. A Content-Security-Policy allows only the report's own script (by hash), so
even a hypothetical escaping bug could not run injected script.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import jinja2
from markupsafe import Markup

from . import rules_view, sections
from .bundle import MonthBundle

_SORT_JS = """
(function () {
  function key(td) {
    var v = td.getAttribute('data-v');
    if (v === null) { v = td.textContent.trim(); }
    var t = String(v).replace(/[\\u00a5,%\\s]/g, '');
    return /^-?\\d+(\\.\\d+)?$/.test(t) ? {n: parseFloat(t), s: String(v)} : {n: null, s: String(v)};
  }
  function each(list, f) { Array.prototype.forEach.call(list, f); }
  each(document.querySelectorAll('table.sortable'), function (t) {
    var ths = t.querySelectorAll('thead th');
    each(ths, function (th, i) {
      th.title = '点击排序';
      th.addEventListener('click', function () {
        var tb = t.tBodies[0];
        if (!tb) { return; }
        var asc = th.getAttribute('data-dir') !== 'asc';
        each(ths, function (o) { o.removeAttribute('data-dir'); });
        th.setAttribute('data-dir', asc ? 'asc' : 'desc');
        var rows = Array.prototype.filter.call(tb.rows, function (r) { return !r.classList.contains('ctx'); });
        rows.sort(function (a, b) {
          var x = a.cells[i] ? key(a.cells[i]) : {n: null, s: ''};
          var y = b.cells[i] ? key(b.cells[i]) : {n: null, s: ''};
          var c = (x.n !== null && y.n !== null) ? x.n - y.n : x.s.localeCompare(y.s, 'zh-CN');
          return asc ? c : -c;
        });
        rows.forEach(function (r) {
          var ctx = r.nextElementSibling && r.nextElementSibling.classList.contains('ctx') ? r.nextElementSibling : null;
          tb.appendChild(r);
          if (ctx) { tb.appendChild(ctx); }
        });
      });
    });
  });
  each(document.querySelectorAll('input.filter'), function (inp) {
    var t = document.getElementById(inp.getAttribute('data-table'));
    if (!t || !t.tBodies[0]) { return; }
    inp.addEventListener('input', function () {
      var q = inp.value.trim().toLowerCase();
      each(t.tBodies[0].rows, function (r) {
        if (r.classList.contains('ctx')) { r.hidden = true; return; }
        r.hidden = q !== '' && r.textContent.toLowerCase().indexOf(q) < 0;
      });
    });
  });
  each(document.querySelectorAll('.agent-head'), function (h) {
    h.addEventListener('click', function () { h.parentNode.classList.toggle('open'); });
  });
  each(document.querySelectorAll('tr.ev'), function (r) {
    r.addEventListener('click', function () {
      var c = r.nextElementSibling;
      if (c && c.classList.contains('ctx')) { c.hidden = !c.hidden; r.classList.toggle('shown', !c.hidden); }
    });
  });
  each(document.querySelectorAll('a[href^="#agent-"]'), function (a) {
    a.addEventListener('click', function () {
      var card = document.getElementById(a.getAttribute('href').slice(1));
      if (card) { card.classList.add('open'); }
    });
  });
})();
""".strip()
_SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(_SORT_JS.encode()).digest()).decode()

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(Path(__file__).parent)),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_report(bundle: MonthBundle) -> str:
    """Render the supervisor report of one shop-month; optional frames that are None say 无数据."""
    template = _ENV.get_template("report.html.j2")
    evidence = sections.evidence_tables(bundle, sections.RESPONSE_KINDS + sections.TEXT_KINDS)  # one pass
    return template.render(
        shop=bundle.shop,
        month=bundle.month,
        summary=sections.summary(bundle),
        rules=rules_view.rules_section(bundle),
        scorecards=sections.scorecards(bundle),
        response=sections.response_times(bundle),
        evidence=[t for t in evidence if t["kind"] in sections.RESPONSE_KINDS],
        lexicon=sections.lexicon(bundle),
        lexicon_evidence=[t for t in evidence if t["kind"] not in sections.RESPONSE_KINDS],
        refunds=sections.refund_reasons(bundle),
        reasons=sections.conversation_reasons(bundle),
        trend=sections.trend(bundle),
        per_agent_limit=sections.EVIDENCE_ROWS_PER_AGENT,
        rules_version=bundle.rules_version,
        rules_hash=bundle.rules_hash,
        inputs_hash=bundle.inputs_hash,
        script=Markup(_SORT_JS),
        script_hash=_SCRIPT_HASH,
    )


def write_report(bundle: MonthBundle, path: str | Path) -> Path:
    """Render and write ``report.html`` (UTF-8); returns the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_report(bundle), encoding="utf-8")
    return p
