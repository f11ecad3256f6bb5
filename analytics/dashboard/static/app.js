// arrears dashboard: fetches named reports from /api/report/NAME and draws
// them with Chart.js. Every number shown comes from a report row.
"use strict";

const BUCKETS = ["not_due", "dpd_1_30", "dpd_31_60", "dpd_61_90", "dpd_91_120", "dpd_120_plus"];
const BUCKET_LABELS = ["current", "1-30", "31-60", "61-90", "91-120", "120+"];
const BUCKET_COLORS = ["#8fc1ff", "#ffd166", "#f9a03f", "#f3722c", "#e04f39", "#9b1d20"];
const PALETTE = ["#2f6fed", "#20a39e", "#ef476f", "#ffb703", "#8338ec", "#fb8500", "#06d6a0", "#118ab2", "#6c757d", "#e76f51", "#2a9d8f"];
// Risk tiers of deploy/risk/scorecard.yaml, lowest risk first, each with its
// own colour: by name, never by position (the report sorts tiers by name).
// A tier no scorecard here names is drawn grey, after the known ones.
const TIER_COLORS = { LOW: "#2a9d3f", MEDIUM: "#f4b400", HIGH: "#e04f39", VERY_HIGH: "#9b1d20" };
const TIER_ORDER = Object.keys(TIER_COLORS);
const tierColor = (tier) => TIER_COLORS[tier] || "#9aa5b1";
const tierRank = (tier) => (TIER_ORDER.includes(tier) ? TIER_ORDER.indexOf(tier) : TIER_ORDER.length);
const charts = {};
let refreshMs = 5000;

const $ = (id) => document.getElementById(id);
const num = (v) => (v === null || v === undefined || v === "" ? NaN : Number(v));
const fmtMoney = (v, cur) => isNaN(v) ? "–" : new Intl.NumberFormat("en-GB", { style: "currency", currency: cur, maximumFractionDigits: 0 }).format(v);
const fmtNum = (v, d = 0) => isNaN(v) ? "–" : new Intl.NumberFormat("en-GB", { maximumFractionDigits: d, minimumFractionDigits: d }).format(v);

function rows(t) {
  return (t.rows || []).map((r) => Object.fromEntries(t.columns.map((c, i) => [c, r[i]])));
}

// With the operator API on (api.tokens_file) serve answers the report API
// to a bearer token only (docs/api.md): the one the workspace's sign-in
// keeps in this tab's sessionStorage.
const SIGN_IN = "Sign in at /workspace/ in this tab, then reload: the reports need an API token.";
function authHeaders() {
  const t = sessionStorage.getItem("arrears.token");
  return t ? { Authorization: `Bearer ${t}` } : {};
}

async function report(name, asOf, extra = {}) {
  const q = new URLSearchParams({ as_of: asOf, segment: $("segment").value, ...extra });
  const res = await fetch(`/api/report/${name}?${q}`, { headers: authHeaders() });
  if (res.status === 401) throw new Error(SIGN_IN);
  const body = await res.json();
  if (!res.ok) throw new Error(`${name}: ${body.error || res.status}`);
  return rows(body);
}

function draw(id, config) {
  if (charts[id]) {
    charts[id].data = config.data;
    charts[id].update("none");
    return;
  }
  config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false,
    plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } } }, config.options || {});
  charts[id] = new Chart($(id), config);
}

function monthEnds(asOf, n) {
  const out = [];
  const d = new Date(asOf + "T00:00:00Z");
  for (let i = n - 1; i >= 0; i--) {
    const e = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - i + 1, 0));
    out.push(i === 0 ? asOf : e.toISOString().slice(0, 10));
  }
  return out;
}

function sum(rs, col) { return rs.reduce((a, r) => a + (isNaN(num(r[col])) ? 0 : num(r[col])), 0); }

async function kpisAndAging(asOf, cur) {
  const aging = (await report("aging", asOf)).filter((r) => r.currency === cur);
  const open = sum(aging, "total");
  const overdue = open - sum(aging, "not_due");
  $("kpi-open").textContent = fmtMoney(open, cur);
  $("kpi-open-n").textContent = `${fmtNum(sum(aging, "accounts"))} accounts with open items`;
  $("kpi-overdue").textContent = fmtMoney(overdue, cur);
  $("kpi-overdue-n").textContent = open > 0 ? `${fmtNum(100 * overdue / open, 1)}% of open` : "";
  draw("c-aging", {
    type: "bar",
    data: { labels: aging.map((r) => r.segment), datasets: BUCKETS.map((b, i) => ({ label: BUCKET_LABELS[i], data: aging.map((r) => num(r[b])), backgroundColor: BUCKET_COLORS[i] })) },
    options: { scales: { x: { stacked: true }, y: { stacked: true, ticks: { callback: (v) => fmtNum(v) } } } },
  });
}

// portfolio DSO over the rows of one currency: receivables / credit sales x days
function dsoOf(rs) {
  const sales = sum(rs, "credit_sales");
  return sales > 0 ? sum(rs, "receivables") / sales * num(rs[0].days) : NaN;
}
// portfolio CEI: (begin + sales - end) / (begin + sales - end current) x 100
function ceiOf(rs) {
  const b = sum(rs, "beginning_receivables"), s = sum(rs, "credit_sales");
  const den = b + s - sum(rs, "ending_current");
  return den > 0 ? 100 * (b + s - sum(rs, "ending_receivables")) / den : NaN;
}

async function trend(asOf, cur) {
  const ends = monthEnds(asOf, 6);
  const dso = await Promise.all(ends.map((d) => report("dso", d, { days: 90 }).then((rs) => dsoOf(rs.filter((r) => r.currency === cur)))));
  const cei = await Promise.all(ends.map((d) => report("cei", d, { days: 30 }).then((rs) => ceiOf(rs.filter((r) => r.currency === cur)))));
  const last = ends.length - 1;
  $("kpi-dso").textContent = isNaN(dso[last]) ? "–" : `${fmtNum(dso[last], 1)} days`;
  $("kpi-dso-n").textContent = `${cur}, receivables ÷ credit sales × 90`;
  $("kpi-cei").textContent = isNaN(cei[last]) ? "–" : `${fmtNum(cei[last], 1)}%`;
  $("kpi-cei-n").textContent = `${cur}, collected ÷ collectible`;
  draw("c-trend", {
    type: "line",
    data: { labels: ends, datasets: [
      { label: "DSO (days)", data: dso, borderColor: "#2f6fed", backgroundColor: "#2f6fed", yAxisID: "y", tension: .25 },
      { label: "CEI (%)", data: cei, borderColor: "#20a39e", backgroundColor: "#20a39e", yAxisID: "y1", tension: .25 },
    ] },
    options: { scales: { y: { position: "left", title: { display: true, text: "days" } }, y1: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: "%" } } } },
  });
}

async function funnel(asOf) {
  const rs = await report("cure_rate", asOf, { days: 90 });
  const stages = [...new Set(rs.map((r) => r.stage))];
  const per = (col) => stages.map((s) => sum(rs.filter((r) => r.stage === s), col));
  draw("c-funnel", {
    type: "bar",
    data: { labels: stages, datasets: [
      { label: "actions", data: per("actions"), backgroundColor: "#8fb3ff" },
      { label: "cured within 14 days", data: per("cured_actions"), backgroundColor: "#20a39e" },
    ] },
    options: { indexAxis: "y", scales: { y: { ticks: { autoSkip: false } } } },
  });
}

async function actionsDaily(asOf) {
  const rs = await report("actions_daily", asOf, { days: 30 });
  const days = [...new Set(rs.map((r) => String(r.day).slice(0, 10)))];
  const types = [...new Set(rs.map((r) => r.action_type))];
  draw("c-actions", {
    type: "bar",
    data: { labels: days, datasets: types.map((t, i) => ({ label: t, backgroundColor: PALETTE[i % PALETTE.length],
      data: days.map((d) => sum(rs.filter((r) => r.action_type === t && String(r.day).slice(0, 10) === d), "actions")) })) },
    options: { scales: { x: { stacked: true }, y: { stacked: true } } },
  });
}

async function riskTiers(asOf) {
  const rs = (await report("risk_calibration", asOf, { days: 1 }))
    .sort((a, b) => tierRank(a.tier) - tierRank(b.tier) || String(a.tier).localeCompare(String(b.tier)));
  draw("c-risk", {
    type: "doughnut",
    data: { labels: rs.map((r) => r.tier), datasets: [{ data: rs.map((r) => num(r.accounts)), backgroundColor: rs.map((r) => tierColor(r.tier)) }] },
  });
}

async function rollRates(asOf) {
  const rs = await report("roll_rates", asOf);
  const from = [...new Set(rs.map((r) => r.from_bucket))].sort();
  const to = [...new Set(rs.map((r) => r.to_bucket))].sort();
  let h = '<table class="heat"><tr><th>from \\ to</th>' + to.map((t) => `<th>${t}</th>`).join("") + "</tr>";
  for (const f of from) {
    h += `<tr><td class="h">${f}</td>`;
    for (const t of to) {
      const r = rs.find((x) => x.from_bucket === f && x.to_bucket === t);
      const v = r ? num(r.account_rate) : 0;
      h += `<td style="background:rgba(224,79,57,${(v * 0.85).toFixed(2)})">${r ? fmtNum(100 * v, 1) + "%" : ""}</td>`;
    }
    h += "</tr>";
  }
  $("roll").innerHTML = from.length ? h + "</table>" : '<div class="n">no history yet</div>';
}

// policy versions: one row per published version, the one in force marked
async function policyVersions(asOf) {
  const rs = await report("policy_versions", asOf);
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  let h = '<table class="heat"><tr><th>policy</th><th>version</th><th>state</th><th>effective from (UTC)</th><th>applied at (UTC)</th><th>actions</th></tr>';
  for (const r of rs) {
    const on = r.state === "active" ? ' style="background:rgba(32,163,158,.18);font-weight:600"' : "";
    h += `<tr${on}><td class="h">${esc(r.name)}</td><td>${esc(r.version)}</td><td>${esc(r.state)}</td>` +
      `<td>${esc(r.effective_from)}</td><td>${esc(r.applied_at)}</td><td>${fmtNum(num(r.actions))}</td></tr>`;
  }
  $("policies").innerHTML = rs.length ? h + "</table>" : '<div class="n">no published versions: the policy files decide</div>';
}

// collections groups: the largest top groups per currency (report
// group_exposure), the highest share overdue marked
async function groupExposure(asOf) {
  const rs = await report("group_exposure", asOf);
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const worst = Math.max(...rs.map((r) => num(r.share_overdue)));
  let h = '<table class="heat"><tr><th>group</th><th>currency</th><th>accounts</th><th>exposure</th><th>overdue</th><th>share overdue</th>' +
    "<th>120+</th><th>expected loss</th><th>worst dpd</th><th>change vs a month earlier</th></tr>";
  for (const r of rs) {
    const hi = num(r.share_overdue) === worst && worst > 0 ? ' style="background:rgba(224,79,57,.18);font-weight:600"' : "";
    h += `<tr${hi}><td class="h">${esc(r.group_id)}</td><td>${esc(r.currency)}</td><td>${fmtNum(num(r.accounts))}</td>` +
      `<td>${fmtNum(num(r.exposure), 2)}</td><td>${fmtNum(num(r.overdue), 2)}</td><td>${fmtNum(100 * num(r.share_overdue), 1)}%</td>` +
      `<td>${fmtNum(num(r.overdue_over_120), 2)}</td><td>${fmtNum(num(r.expected_loss), 2)}</td><td>${fmtNum(num(r.worst_dpd))}</td>` +
      `<td>${fmtNum(num(r.exposure_change), 2)}</td></tr>`;
  }
  $("groups").innerHTML = rs.length ? h + "</table>" : '<div class="n">no collections groups (processor.groups.enabled off)</div>';
}

// champion/challenger experiments: one row per arm, the challenger's uplift
// in cure rate with its interval and p-value (report experiment)
async function experiments(asOf) {
  const rs = await report("experiment", asOf);
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const pct = (v) => fmtNum(100 * num(v), 1) + "%";
  const ci = (lo, hi) => (lo === null || lo === undefined ? "" : ` [${pct(lo)}, ${pct(hi)}]`);
  let h = '<table class="heat"><tr><th>experiment</th><th>arm</th><th>accounts</th><th>cure rate</th><th>uplift</th><th>p</th>' +
    "<th>roll to 31-60</th><th>cash / account</th><th>contacts / account</th><th>contact cost / account</th><th>suspensions</th><th>write-offs</th></tr>";
  for (const r of rs) {
    const sig = r.p_value !== null && num(r.p_value) < 0.05 ? ' style="background:rgba(32,163,158,.18);font-weight:600"' : "";
    h += `<tr${sig}><td class="h">${esc(r.experiment)}</td><td>${esc(r.arm)}</td><td>${fmtNum(num(r.accounts))}</td>` +
      `<td>${r.cure_rate === null ? "–" : pct(r.cure_rate) + ci(r.cure_ci_low, r.cure_ci_high)}</td>` +
      `<td>${r.cure_uplift === null ? "" : pct(r.cure_uplift) + ci(r.uplift_ci_low, r.uplift_ci_high)}</td>` +
      `<td>${r.p_value === null ? "" : num(r.p_value).toPrecision(2)}</td><td>${r.roll_rate_31_60 === null ? "–" : pct(r.roll_rate_31_60)}</td>` +
      `<td>${fmtNum(num(r.cash_per_account), 2)}</td><td>${fmtNum(num(r.contacts_per_account), 2)}</td>` +
      `<td>${fmtNum(num(r.contact_cost_per_account), 3)}</td><td>${fmtNum(num(r.suspensions))}</td><td>${fmtNum(num(r.write_offs))}</td></tr>`;
  }
  $("experiments").innerHTML = rs.length ? h + "</table>" : '<div class="n">no experiment running</div>';
}

async function refresh() {
  const asOf = $("asof").value, cur = $("currency").value;
  const parts = [kpisAndAging(asOf, cur), trend(asOf, cur), funnel(asOf), actionsDaily(asOf), riskTiers(asOf), rollRates(asOf), policyVersions(asOf), experiments(asOf), groupExposure(asOf)];
  const res = await Promise.allSettled(parts);
  const errs = res.filter((r) => r.status === "rejected").map((r) => r.reason.message);
  $("errors").hidden = errs.length === 0;
  $("errors").textContent = errs.join(" · ");
  $("dot").className = errs.length ? "dot stale" : "dot";
  $("updated").textContent = "updated " + new Date().toLocaleTimeString();
  document.body.dataset.loaded = String((Number(document.body.dataset.loaded) || 0) + 1);
}

async function main() {
  const res = await fetch("/api/config", { headers: authHeaders() });
  if (res.status === 401) {
    $("errors").hidden = false;
    $("errors").textContent = SIGN_IN;
    return;
  }
  const cfg = await res.json();
  refreshMs = cfg.refresh_ms || refreshMs;
  $("asof").value = cfg.as_of;
  for (const id of ["asof", "segment", "currency"]) $(id).addEventListener("change", refresh);
  await refresh();
  setInterval(refresh, refreshMs);
}
main();
