"""The report as one self-contained HTML page: no network, no CDN; inline CSS, SVG drawn by inline JS
from the report's JSON embedded in the page. Charts: points issued over time by reason, active
wallets, the retention cohort heat map, the tier funnel and redemptions per perk. Every number tile
carries ``data-kpi="<field>"`` with the report's value, so a test can compare the page to the JSON."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

from ..files import write_atomic
from .export import utc
from .model import ProgramReport

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2430;background:#f6f7f9}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0 0 8px}
.sub{color:#5b6575;margin-bottom:16px}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px;margin-bottom:16px}
.tile{background:#fff;border-radius:8px;padding:10px 12px;box-shadow:0 1px 2px #0001}
.tile .v{font-size:20px;font-weight:600}.tile .k{color:#5b6575;font-size:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:14px}
.card{background:#fff;border-radius:8px;padding:12px;box-shadow:0 1px 2px #0001}
svg text{font-size:11px;fill:#1d2430}.legend span{display:inline-block;margin-right:10px;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
table.heat{border-collapse:collapse;font-size:12px}
table.heat td,table.heat th{padding:3px 6px;text-align:right}
.note{color:#5b6575;font-size:12px;margin-top:12px}
"""

_JS = r"""
(function () {
  "use strict";
  const R = JSON.parse(document.getElementById("report-data").textContent);
  const NS = "http://www.w3.org/2000/svg";
  const COLORS = ["#3b6fd8", "#e0883a", "#3aa876", "#c44e6b", "#8b63c9", "#2bb0c4", "#b8a032", "#6b7280"];
  const scale = 10 ** R.decimals;
  const fmt = (n) => Number(n).toLocaleString("en-US", {maximumFractionDigits: 4});
  const pts = (n) => fmt(Number(n) / scale);
  const pct = (x) => (x === null || x === undefined) ? "—" : (100 * x).toFixed(1) + "%";
  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }
  function text(parent, x, y, s, anchor) {
    const t = el("text", {x: x, y: y, "text-anchor": anchor || "start"}, parent);
    t.textContent = s;
    return t;
  }
  function svg(id, w, h) {
    const host = document.getElementById(id);
    const s = el("svg", {viewBox: "0 0 " + w + " " + h, width: "100%", role: "img"});
    host.appendChild(s);
    return s;
  }
  function legend(id, names) {
    const host = document.getElementById(id);
    names.forEach((n, i) => {
      const span = document.createElement("span");
      const sw = document.createElement("i");
      sw.style.background = COLORS[i % COLORS.length];
      span.appendChild(sw);
      span.appendChild(document.createTextNode(n));
      host.appendChild(span);
    });
  }
  function tiles() {
    const items = [
      ["members", "Members (card holders)", fmt], ["point_holders", "Point holders", fmt],
      ["active_30d", "Active wallets, 30 days", fmt], ["active_90d", "Active wallets, 90 days", fmt],
      ["issued", "Points issued", pts], ["redeemed", "Points redeemed", pts],
      ["redemption_rate", "Redemption rate", pct], ["outstanding", "Points outstanding", pts],
      ["liability", "Liability", (v) => fmt(v)], ["expired", "Expired (breakage)", pts],
      ["p2p_share", "P2P share of issued", pct], ["velocity", "P2P velocity", pct],
      ["avg_days_earn_to_redeem", "Avg days earn → redeem", (v) => v === null ? "—" : fmt(v)],
      ["new_members", "New members", fmt],
    ];
    const host = document.getElementById("tiles");
    for (const [key, label, f] of items) {
      const d = document.createElement("div");
      d.className = "tile";
      const v = document.createElement("div");
      v.className = "v";
      v.dataset.kpi = key;
      v.dataset.value = R[key] === null ? "" : String(R[key]);
      v.textContent = f(R[key]);
      const k = document.createElement("div");
      k.className = "k";
      k.textContent = label;
      d.appendChild(v);
      d.appendChild(k);
      host.appendChild(d);
    }
  }
  function bars(id, labels, stacks, names) {
    const W = 640, H = 240, L = 56, B = 40, T = 10;
    const s = svg(id, W, H);
    const n = labels.length || 1;
    const totals = labels.map((_, i) => stacks.reduce((a, st) => a + Number(st[i] || 0), 0));
    const max = Math.max(1, ...totals);
    const bw = (W - L - 10) / n;
    el("line", {x1: L, y1: H - B, x2: W - 5, y2: H - B, stroke: "#999"}, s);
    text(s, L - 4, T + 8, pts(max), "end");
    text(s, L - 4, H - B, "0", "end");
    labels.forEach((label, i) => {
      let y = H - B;
      stacks.forEach((st, j) => {
        const h = (Number(st[i] || 0) / max) * (H - B - T);
        if (h > 0) {
          const r = el("rect", {x: L + i * bw + 1, y: y - h, width: Math.max(1, bw - 2), height: h,
                                fill: COLORS[j % COLORS.length]}, s);
          el("title", {}, r).textContent = label + " · " + names[j] + ": " + pts(st[i]);
        }
        y -= h;
      });
      if (n <= 16 || i % Math.ceil(n / 12) === 0) text(s, L + i * bw + bw / 2, H - B + 14, label, "middle");
    });
  }
  function line(id, labels, values) {
    const W = 640, H = 200, L = 56, B = 36, T = 10;
    const s = svg(id, W, H);
    const max = Math.max(1, ...values);
    const n = Math.max(1, labels.length - 1);
    const x = (i) => L + (i / n) * (W - L - 10);
    const y = (v) => H - B - (v / max) * (H - B - T);
    el("line", {x1: L, y1: H - B, x2: W - 5, y2: H - B, stroke: "#999"}, s);
    text(s, L - 4, T + 8, fmt(max), "end");
    el("polyline", {points: values.map((v, i) => x(i) + "," + y(v)).join(" "), fill: "none",
                    stroke: COLORS[0], "stroke-width": 2}, s);
    values.forEach((v, i) => {
      const c = el("circle", {cx: x(i), cy: y(v), r: 3, fill: COLORS[0]}, s);
      el("title", {}, c).textContent = labels[i] + ": " + fmt(v);
    });
    labels.forEach((label, i) => {
      const every = Math.ceil(labels.length / 12);
      if (labels.length <= 16 || i % every === 0) text(s, x(i), H - B + 14, label, "middle");
    });
  }
  function hbars(id, rows) {
    const W = 640, row = 26, L = 150;
    const s = svg(id, W, Math.max(row, rows.length * row) + 8);
    const max = Math.max(1, ...rows.map((r) => r[1]));
    rows.forEach(([label, v, shown], i) => {
      const w = (v / max) * (W - L - 80);
      text(s, L - 6, i * row + 17, label, "end");
      el("rect", {x: L, y: i * row + 4, width: Math.max(1, w), height: row - 8,
                  fill: COLORS[i % COLORS.length]}, s);
      text(s, L + w + 6, i * row + 17, shown);
    });
  }
  function heat(id) {
    const host = document.getElementById(id);
    const table = document.createElement("table");
    table.className = "heat";
    const span = Math.max(0, ...R.cohorts.map((c) => c.retention.length));
    const head = table.insertRow();
    ["cohort", "wallets"].concat([...Array(span).keys()].map((k) => "+" + (k + 1))).forEach((h) => {
      const th = document.createElement("th");
      th.textContent = h;
      head.appendChild(th);
    });
    for (const c of R.cohorts) {
      const tr = table.insertRow();
      tr.insertCell().textContent = c.month;
      tr.insertCell().textContent = fmt(c.size);
      c.retention.forEach((share) => {
        const td = tr.insertCell();
        td.textContent = pct(share);
        td.style.background = "rgba(59,111,216," + (0.08 + 0.85 * share).toFixed(3) + ")";
        if (share > 0.55) td.style.color = "#fff";
      });
    }
    host.appendChild(table);
  }
  tiles();
  const reasons = Object.keys(R.series.issued_by_reason);
  bars("issued", R.series.labels, reasons.map((k) => R.series.issued_by_reason[k]), reasons);
  legend("issued-legend", reasons);
  line("active", R.series.labels, R.series.active);
  heat("cohorts");
  hbars("tiers", Object.entries(R.members_per_tier).map(([k, v]) => [k, v, fmt(v)]));
  hbars("perks", R.perks.map((p) => [p.title, p.redemptions, fmt(p.redemptions)]));
  document.body.dataset.rendered = "1";
})();
"""


def render_html(report: ProgramReport) -> str:
    """The dashboard page of ``report``."""
    data = json.dumps(report.to_json(), default=str, ensure_ascii=False).replace("</", "<\\/")
    title = html.escape(f"{report.program} · loyalty dashboard")
    period = html.escape(f"{utc(report.since)} → {utc(report.until)} (UTC) · blocks {report.first_block}–"
                         f"{report.last_block} · chain {report.chain_id}")  # fmt: skip
    notes = "".join(f'<p class="note">{html.escape(n)}</p>' for n in report.notes)
    unit = html.escape(report.series.period)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>{_CSS}</style></head>
<body>
<h1>{html.escape(report.program)}</h1><div class="sub">{period}</div>
<div class="tiles" id="tiles"></div>
<div class="grid">
<div class="card"><h2>Points issued per {unit}, by reason</h2><div id="issued"></div>
<div class="legend" id="issued-legend"></div></div>
<div class="card"><h2>Active wallets per {unit}</h2><div id="active"></div></div>
<div class="card"><h2>Retention by monthly cohort</h2><div id="cohorts"></div></div>
<div class="card"><h2>Members per tier</h2><div id="tiers"></div></div>
<div class="card"><h2>Redemptions per perk</h2><div id="perks"></div></div>
</div>
{notes}
<script type="application/json" id="report-data">{data}</script>
<script>{_JS}</script>
</body></html>
"""


def write_html(report: ProgramReport, path: str | os.PathLike[str]) -> Path:
    return write_atomic(path, render_html(report))
