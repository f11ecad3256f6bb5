// The collector workspace: plain DOM over /api/v1 (docs/api.md). No inline
// script or style (strict CSP); every value is written as text, never HTML.
"use strict";

const API = "/api/v1";
const TOKEN_KEY = "arrears.token";
const $ = (sel) => document.querySelector(sel);
const state = { me: null, account: null, view: null, queue: "", worklistCursor: "", searchCursor: "", timelineCursor: "", keys: {} };

function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

// api calls the API with the bearer token; it resolves to {status, body}
// and throws an Error whose message is the problem's title and fields.
async function api(method, path, body, idemKey) {
  const headers = { "Authorization": "Bearer " + token(), "Accept": "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (idemKey) headers["Idempotency-Key"] = idemKey;
  const res = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = { title: text }; }
  if (res.status === 401) { signOut(); throw new Error("signed out: the token was refused"); }
  if (!res.ok) {
    const p = data || {};
    const fields = (p.errors || []).map((f) => f.field + ": " + f.message).join("; ");
    throw new Error((p.title || ("HTTP " + res.status)) + (p.detail ? " – " + p.detail : "") + (fields ? " (" + fields + ")" : ""));
  }
  return { status: res.status, body: data };
}

function flash(msg, isErr) {
  const d = document.createElement("div");
  d.textContent = msg;
  if (isErr) d.className = "err";
  $("#flash").appendChild(d);
  setTimeout(() => d.remove(), isErr ? 8000 : 4000);
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function row(cells, onClick) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    if (c instanceof Node) { const td = el("td"); td.appendChild(c); tr.appendChild(td); } else tr.appendChild(el("td", c));
  }
  if (onClick) { tr.className = "link"; tr.addEventListener("click", onClick); }
  return tr;
}

function fill(tableSel, rows, append) {
  const tb = $(tableSel + " tbody");
  if (!append) tb.replaceChildren();
  for (const r of rows) tb.appendChild(r);
  if (!append && rows.length === 0) {
    const tr = el("tr"), td = el("td", "nothing here", "muted");
    td.colSpan = $(tableSel + " thead tr").children.length;
    tr.appendChild(td); tb.appendChild(tr);
  }
}

function when(s) { if (!s) return ""; const d = new Date(s); return isNaN(d) ? s : d.toISOString().replace("T", " ").slice(0, 16) + "Z"; }
function pct(x) { return (x * 100).toFixed(1) + "%"; }
function newKey() { return (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2)); }
function isSupervisor() { return state.me && (state.me.role === "supervisor" || state.me.role === "admin"); }

// ---- navigation -------------------------------------------------------

function show(name) {
  for (const v of document.querySelectorAll(".view")) v.hidden = v.id !== "view-" + name;
  for (const a of document.querySelectorAll("header nav a")) a.classList.toggle("on", a.id === "nav-" + name);
  state.view = name;
}

async function route() {
  if (!token()) { show("signin"); return; }
  if (!state.me) {
    try { state.me = (await api("GET", "/me")).body; } catch (e) { flash(e.message, true); show("signin"); return; }
    $("#me").textContent = state.me.name + " · " + state.me.role;
    $("#nav").hidden = false; $("#signout").hidden = false;
    $("#nav-supervisor").hidden = !isSupervisor();
    for (const b of document.querySelectorAll("[data-min=supervisor]")) b.hidden = !isSupervisor();
  }
  const h = location.hash || "#/worklist";
  const m = h.match(/^#\/account\/(.+)$/);
  try {
    if (m) { show("account"); await loadAccount(decodeURIComponent(m[1])); }
    else if (h === "#/callbacks") { show("callbacks"); await loadCallbacks(); }
    else if (h === "#/search") { show("search"); }
    else if (h === "#/supervisor") { show("supervisor"); await loadSupervisor(); }
    else { show("worklist"); await loadWorklist(false); }
  } catch (e) { flash(e.message, true); }
  document.body.dataset.view = state.view;
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  state.me = null;
  $("#nav").hidden = true; $("#signout").hidden = true; $("#me").textContent = "";
  show("signin");
}

// ---- worklist, call-backs, search --------------------------------------

async function loadWorklist(more) {
  const sel = $("#queue-select");
  if (sel.options.length === 0) {
    const qs = (await api("GET", "/worklists")).body.queues;
    for (const q of qs) sel.appendChild(el("option", q.queue + " (" + q.open_tasks + ")")).value = q.queue;
    state.queue = qs.length ? qs[0].queue : "";
  }
  if (!state.queue) { fill("#worklist", []); return; }
  if (!more) state.worklistCursor = "";
  const p = (await api("GET", "/worklists/" + encodeURIComponent(state.queue) + "?limit=50" +
    (state.worklistCursor ? "&cursor=" + encodeURIComponent(state.worklistCursor) : ""))).body;
  const start = more ? $("#worklist tbody").children.length : 0;
  fill("#worklist", p.items.map((t, i) => row([start + i + 1, t.account_id, t.stage, t.days_past_due, t.currency + " " + t.overdue,
    pct(t.pd), t.expected_loss, when(t.task_at), t.reason], () => { location.hash = "#/account/" + encodeURIComponent(t.account_id); })), more);
  state.worklistCursor = p.next_cursor;
  $("#worklist-more").hidden = !p.next_cursor;
  document.body.dataset.worklist = String(p.items.length);
}

async function loadCallbacks() {
  const inp = $("#callbacks-day");
  if (!inp.value) inp.value = new Date().toISOString().slice(0, 10);
  const p = (await api("GET", "/callbacks?due=" + inp.value)).body;
  fill("#callbacks", p.callbacks.map((c) => row([c.account_id, c.queue, when(c.scheduled_at), c.scheduled_by, c.note, c.called ? "yes" : "no"],
    () => { location.hash = "#/account/" + encodeURIComponent(c.account_id); })));
}

async function search(more) {
  const f = new FormData($("#search-form"));
  const q = new URLSearchParams();
  for (const [k, v] of f) if (v) q.set(k, v);
  if (more && state.searchCursor) q.set("cursor", state.searchCursor);
  const p = (await api("GET", "/accounts?" + q)).body;
  fill("#search-results", p.items.map((a) => row([a.account_id, a.segment, a.parent_id, a.stage, a.service_state, a.risk_tier,
    a.currency + " " + a.overdue, a.days_past_due], () => { location.hash = "#/account/" + encodeURIComponent(a.account_id); })), more);
  state.searchCursor = p.next_cursor;
  $("#search-more").hidden = !p.next_cursor;
}

// ---- the account page --------------------------------------------------

async function loadAccount(id) {
  delete document.body.dataset.loaded;
  if (!state.account || state.account.account_id !== id) $("#form-result").textContent = "";
  const v = (await api("GET", "/accounts/" + encodeURIComponent(id))).body;
  renderAccount(v);
  state.timelineCursor = "";
  await Promise.all([loadTimeline(false), loadAudit()]);
  document.body.dataset.loaded = v.account_id;
}

function renderAccount(v) {
  state.account = v;
  $("#acct-title").textContent = "Account " + v.account_id;
  const dl = $("#acct-status");
  dl.replaceChildren();
  const add = (k, val, cls) => { dl.appendChild(el("dt", k)); const dd = el("dd"); if (val instanceof Node) dd.appendChild(val); else dd.textContent = val; if (cls) dd.id = cls; dl.appendChild(dd); };
  add("Segment", v.segment + (v.parent_id ? " · parent " + v.parent_id : ""));
  add("Stage", v.stage || "none", "acct-stage");
  add("Service", v.service_state, "acct-service");
  add("Collections", v.collections_status, "acct-collections");
  add("Dunning", el("span", v.paused ? "paused: " + v.paused : "running", "badge " + (v.paused ? "paused" : "ok")), "acct-dunning");
  add("Days past due", v.days_past_due);
  if (v.arrangement) add("Arrangement", v.arrangement.type + " " + v.arrangement.currency + " " + v.arrangement.amount + " due " + v.arrangement.next_due, "acct-arrangement");
  if (v.on_hold) add("On hold until", when(v.hold_until));
  if (v.exemptions.length) add("Exemptions", v.exemptions.join(", "));
  add("Consents", (v.consents.join(", ") || "none") + (v.preferred_channel ? " (prefers " + v.preferred_channel + ")" : ""));
  if (v.cease_contact) add("Cease contact", "yes");
  if (v.last_call) add("Last call", when(v.last_call.at) + " " + v.last_call.outcome);
  if (v.callbacks.length) add("Call-backs", v.callbacks.map((c) => when(c.at) + (c.queue ? " in " + c.queue : "")).join("; "));
  if (v.policy) add("Policy", v.policy.name + " " + v.policy.version);
  add("As of", when(v.as_of));

  const n = v.next_action;
  $("#next-type").textContent = n ? n.type : "nothing scheduled";
  $("#next-at").textContent = n ? "on " + n.at.slice(0, 10) + " (" + when(n.at) + ")" : "";
  $("#next-at").dataset.date = n ? n.at.slice(0, 10) : "";
  $("#next-why").textContent = !n ? "" : (n.type === "ARRANGEMENT_DUE" ? "If it is not paid, on " + when(n.decided_at) + ": " : "") + n.explanation;
  $("#next-actions").replaceChildren(...(n ? n.actions : []).map((a) => el("li", a.type + (a.channel ? " via " + a.channel : "") + (a.queue ? " to " + a.queue : "") + " (" + a.stage + "): " + a.reason)));

  $("#risk-tier").textContent = v.risk.tier || "unscored";
  $("#risk-pd").textContent = pct(v.risk.pd);
  $("#risk-score").textContent = v.risk.score === null ? "–" : v.risk.score;
  fill("#risk-reasons", v.risk.reasons.map((r) => row([r.code, (r.contribution >= 0 ? "+" : "") + r.contribution.toFixed(3)])));

  fill("#acct-balances", v.balances.map((b) => row([b.currency, b.balance, b.overdue, b.disputed, b.unapplied])));
  fill("#acct-items", v.open_items.map((i) => row([i.invoice_id, i.due_date, i.days_past_due, i.currency + " " + i.amount, i.open, i.disputed])));
  const inv = $("#dispute-invoice");
  inv.replaceChildren(...v.open_items.map((i) => { const o = el("option", i.invoice_id + " (" + i.currency + " " + i.open + ")"); o.value = i.invoice_id; return o; }));
  // Sensible defaults: the account's currency and overdue amount.
  const cur = v.balances.find((b) => b.overdue !== "0.0000") || v.balances[0];
  for (const f of document.querySelectorAll(".wform")) {
    if (f.elements.currency && !f.elements.currency.value && cur) f.elements.currency.value = cur.currency;
  }
  const pf = $("#form-promise");
  if (cur && !pf.elements.amount.value) pf.elements.amount.value = cur.overdue;
  document.body.dataset.account = v.account_id;
  document.body.dataset.paused = v.paused;
}

async function loadTimeline(more) {
  const id = state.account.account_id;
  const p = (await api("GET", "/accounts/" + encodeURIComponent(id) + "/timeline?limit=30" +
    (more && state.timelineCursor ? "&before=" + encodeURIComponent(state.timelineCursor) : ""))).body;
  fill("#acct-timeline", p.items.map((e) => row([when(e.at), e.type, e.kind, e.amount && e.amount !== "0.0000" ? e.currency + " " + e.amount : "", e.detail, e.source])), more);
  state.timelineCursor = p.next_cursor;
  $("#timeline-more").hidden = !p.next_cursor;
}

async function loadAudit() {
  const id = state.account.account_id;
  let rows = [];
  try {
    const b = (await api("GET", "/accounts/" + encodeURIComponent(id) + "/audit")).body;
    rows = (b.items || b.entries || b || []).map((a) => row([when(a.time), a.actor + " (" + a.role + ")", a.route, a.status + (a.detail ? " " + a.detail : "")]));
  } catch (e) { flash("audit: " + e.message, true); }
  fill("#acct-audit", rows);
}

// formBody turns a write form into its JSON body (docs/api.md).
function formBody(form) {
  const f = form.elements, kind = form.id.slice(5);
  switch (kind) {
    case "promise": return { currency: f.currency.value.toUpperCase(), amount: f.amount.value, date: f.date.value };
    case "call": return f.note.value ? { outcome: f.outcome.value, note: f.note.value } : { outcome: f.outcome.value };
    case "note": return { text: f.text.value };
    case "dispute": return { invoice_id: f.invoice_id.value, currency: f.currency.value.toUpperCase(), amount: f.amount.value, reason: f.reason.value };
    case "hold": return { until: f.until.value + "T00:00:00Z", reason: f.reason.value };
    case "plan": return {
      currency: f.currency.value.toUpperCase(),
      installments: f.installments.value.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => { const [date, amount] = l.split(/\s+/); return { date, amount }; }),
    };
  }
  return {};
}

// submitWrite sends the form once per Idempotency-Key: a retry after an
// error reuses the key (the API answers it without a second event); a
// success forgets it.
async function submitWrite(ev) {
  ev.preventDefault();
  const form = ev.target, id = state.account.account_id;
  const body = formBody(form);
  const sig = form.id + "|" + id + "|" + JSON.stringify(body);
  state.keys[sig] = state.keys[sig] || newKey();
  const btn = form.querySelector("button[type=submit]");
  btn.disabled = true;
  $("#form-result").textContent = "sending…";
  try {
    const r = await api("POST", "/accounts/" + encodeURIComponent(id) + "/" + form.dataset.path + "?wait=5s", body, state.keys[sig]);
    delete state.keys[sig];
    const b = r.body || {};
    if (b.approval_id) $("#form-result").textContent = "sent for approval (" + b.approval_id + ")";
    else if (b.pending) {
      $("#form-result").textContent = "accepted (" + b.event_id + "); not applied yet, reloading in a moment";
      setTimeout(() => { if (state.account && state.account.account_id === id) loadAccount(id).catch((x) => flash(x.message, true)); }, 2000);
    }
    else $("#form-result").textContent = "applied (" + b.event_id + ")";
    document.body.dataset.writeResult = b.approval_id ? "approval" : (b.pending ? "pending" : "applied");
    if (b.account) renderAccount(b.account);
    form.reset();
    renderAccount(state.account); // refill the defaults
    await Promise.all([loadTimeline(false), loadAudit()]);
    document.body.dataset.lastWrite = form.id;
  } catch (e) {
    $("#form-result").textContent = e.message;
    flash(e.message, true);
  } finally { btn.disabled = false; }
}

// ---- supervisor ------------------------------------------------------------

async function loadSupervisor() {
  const qs = (await api("GET", "/worklists")).body.queues;
  fill("#queues", qs.map((q) => row([q.queue, q.open_tasks, q.expected_loss, when(q.oldest_task_at)])));
  const b = (await api("GET", "/approvals?status=pending")).body;
  const items = b.items || b.approvals || [];
  fill("#approvals", items.map((a) => {
    const what = a.kind + (a.request && a.request.installments ? ": " + a.request.installments.map((i) => i.date + " " + i.amount).join(", ") + " " + (a.request.currency || "") : "");
    const btns = el("span");
    const approve = el("button", "Approve", "primary"), reject = el("button", "Reject", "danger");
    approve.type = reject.type = "button";
    approve.dataset.approval = reject.dataset.approval = a.approval_id;
    approve.addEventListener("click", (e) => { e.stopPropagation(); decide(a.approval_id, "approve"); });
    reject.addEventListener("click", (e) => { e.stopPropagation(); decide(a.approval_id, "reject"); });
    btns.append(approve, " ", reject);
    return row([a.account_id, a.requested_by, when(a.requested_at), what, btns], () => { location.hash = "#/account/" + encodeURIComponent(a.account_id); });
  }));
  document.body.dataset.approvals = String(items.length);
}

async function decide(id, verb) {
  const sig = verb + "|" + id;
  state.keys[sig] = state.keys[sig] || newKey();
  try {
    const body = verb === "reject" ? { reason: "rejected in the workspace" } : {};
    await api("POST", "/approvals/" + encodeURIComponent(id) + "/" + verb + "?wait=5s", body, state.keys[sig]);
    delete state.keys[sig];
    flash(verb === "approve" ? "approved" : "rejected");
    await loadSupervisor();
  } catch (e) { flash(e.message, true); }
}

// ---- wiring ----------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("#signin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("#signin-token").value.trim());
    $("#signin-token").value = "";
    state.me = null;
    if (location.hash === "" || location.hash === "#/worklist") route(); else location.hash = "#/worklist";
  });
  $("#signout").addEventListener("click", () => { signOut(); location.hash = ""; });
  $("#queue-select").addEventListener("change", (e) => { state.queue = e.target.value; loadWorklist(false).catch((x) => flash(x.message, true)); });
  $("#worklist-more").addEventListener("click", () => loadWorklist(true).catch((x) => flash(x.message, true)));
  $("#callbacks-day").addEventListener("change", () => loadCallbacks().catch((x) => flash(x.message, true)));
  $("#search-form").addEventListener("submit", (e) => { e.preventDefault(); search(false).catch((x) => flash(x.message, true)); });
  $("#search-more").addEventListener("click", () => search(true).catch((x) => flash(x.message, true)));
  $("#acct-refresh").addEventListener("click", () => loadAccount(state.account.account_id).catch((x) => flash(x.message, true)));
  $("#timeline-more").addEventListener("click", () => loadTimeline(true).catch((x) => flash(x.message, true)));
  for (const b of document.querySelectorAll("#form-tabs button")) {
    b.addEventListener("click", () => {
      for (const o of document.querySelectorAll("#form-tabs button")) o.classList.toggle("on", o === b);
      for (const f of document.querySelectorAll(".wform")) f.hidden = f.id !== "form-" + b.dataset.form;
    });
  }
  for (const f of document.querySelectorAll(".wform")) f.addEventListener("submit", submitWrite);
  window.addEventListener("hashchange", route);
  route();
});
