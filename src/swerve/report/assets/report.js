// swerve report: tables (sort, filter, page) over the data inline in the page, and live reloads
// when served by `swerve report --serve`. No network unless served; no libraries.
"use strict";

const D = JSON.parse(document.getElementById("report-data").textContent);
const EPISODES = D.episodes.map((r) => Object.fromEntries(D.columns.map((c, i) => [c, r[i]])));
const BY_KEY = new Map(EPISODES.map((e) => [e.key, e]));
const TASKS = D.figures.tasks;
const K = D.figures.samples;
const STATE_KEY = "swerve-report:" + D.run.path;
const TABLES = {};

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

const fmt = {
  num: (v, d = 3) => (v === null || v === undefined ? "–" : Number(v).toFixed(d)),
  pct: (v) => (v === null || v === undefined ? "–" : (100 * v).toFixed(1) + "%"),
  sec: (v) => (v === null || v === undefined ? "–" : v < 10 ? v.toFixed(2) + " s" : v.toFixed(1) + " s"),
  int: (v) => (v === null || v === undefined ? "–" : String(v)),
};

function pill(klass, text) {
  return el("span", { class: "pill " + klass, text: text });
}

function loadState() {
  try { return JSON.parse(sessionStorage.getItem(STATE_KEY) || "{}"); } catch (e) { return {}; }
}

function saveState(id, state) {
  try {
    const all = loadState();
    all[id] = state;
    sessionStorage.setItem(STATE_KEY, JSON.stringify(all));
  } catch (e) { /* storage may be off for file:// pages; the state is then not kept */ }
}

// A sortable, filterable, paged table. columns: {key, label, num, value(row), cell(row)}
class Table {
  constructor(host, options) {
    this.host = host;
    this.o = Object.assign({ pageSize: 50, filters: [] }, options);
    const saved = loadState()[this.o.id] || {};
    this.sort = saved.sort || this.o.sort || { key: this.o.columns[0].key, dir: 1 };
    this.query = saved.query || "";
    this.choice = saved.choice || {};
    this.page = saved.page || 0;
    this.build();
    this.render();
    TABLES[this.o.id] = this;
  }

  value(col, row) { return col.value ? col.value(row) : row[col.key]; }

  setQuery(q) {
    this.query = q;
    this.page = 0;
    this.host.querySelector("input[type=search]").value = q;
    this.render();
  }

  build() {
    const search = el("input", { type: "search", placeholder: "filter…", value: this.query, "aria-label": "filter rows" });
    search.addEventListener("input", () => { this.query = search.value; this.page = 0; this.render(); });
    const tools = el("div", { class: "tools" }, search);
    for (const f of this.o.filters) {
      const select = el("select", { "aria-label": f.label, "data-filter": f.id },
        f.options.map(([value, label]) => el("option", { value: value, text: label })));
      select.value = this.choice[f.id] || "";
      select.addEventListener("change", () => { this.choice[f.id] = select.value; this.page = 0; this.render(); });
      tools.append(select);
    }
    this.count = el("span", { class: "pager" });
    this.prev = el("button", { type: "button", text: "‹ prev", onclick: () => { this.page--; this.render(); } });
    this.next = el("button", { type: "button", text: "next ›", onclick: () => { this.page++; this.render(); } });
    tools.append(this.prev, this.next, this.count);
    this.head = el("tr");
    for (const col of this.o.columns) {
      const th = el("th", { class: col.num ? "num" : "", scope: "col", "data-key": col.key, title: col.title || null }, col.label);
      th.addEventListener("click", () => {
        this.sort = { key: col.key, dir: this.sort.key === col.key ? -this.sort.dir : col.num ? -1 : 1 };
        this.render();
      });
      this.head.append(th);
    }
    this.body = el("tbody");
    this.host.replaceChildren(tools, el("table", {}, el("thead", {}, this.head), this.body));
  }

  rows() {
    const q = this.query.trim().toLowerCase();
    let rows = this.o.rows.filter((row) => this.o.filters.every((f) => !this.choice[f.id] || f.test(row, this.choice[f.id])));
    if (q) {
      rows = rows.filter((row) => this.o.columns.some((c) => String(this.value(c, row) ?? "").toLowerCase().includes(q)));
    }
    const col = this.o.columns.find((c) => c.key === this.sort.key) || this.o.columns[0];
    const dir = this.sort.dir;
    return rows.slice().sort((a, b) => {
      const x = this.value(col, a), y = this.value(col, b);
      if (x === y) return 0;
      if (x === null || x === undefined || x === "") return 1;
      if (y === null || y === undefined || y === "") return -1;
      return (typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true })) * dir;
    });
  }

  render() {
    const rows = this.rows();
    const pages = Math.max(1, Math.ceil(rows.length / this.o.pageSize));
    this.page = Math.min(Math.max(0, this.page), pages - 1);
    const shown = rows.slice(this.page * this.o.pageSize, (this.page + 1) * this.o.pageSize);
    this.body.replaceChildren(...shown.map((row) => {
      const tr = el("tr", { tabindex: "0", "data-row": this.o.rowId ? this.o.rowId(row) : null },
        this.o.columns.map((col) => el("td", { class: (col.num ? "num " : "") + (col.cls || "") },
          col.cell ? col.cell(row) : fmtValue(this.value(col, row)))));
      if (this.o.onOpen) {
        tr.addEventListener("click", () => this.o.onOpen(row));
        tr.addEventListener("keydown", (ev) => { if (ev.key === "Enter") this.o.onOpen(row); });
      }
      return tr;
    }));
    for (const th of this.head.children) {
      th.setAttribute("aria-sort", th.dataset.key === this.sort.key ? (this.sort.dir > 0 ? "ascending" : "descending") : "none");
    }
    const first = rows.length ? this.page * this.o.pageSize + 1 : 0;
    this.count.textContent = `rows ${first}–${this.page * this.o.pageSize + shown.length} of ${rows.length}` +
      (rows.length !== this.o.rows.length ? ` (${this.o.rows.length} in all)` : "");
    this.prev.disabled = this.page === 0;
    this.next.disabled = this.page >= pages - 1;
    saveState(this.o.id, { sort: this.sort, query: this.query, choice: this.choice, page: this.page });
  }
}

function fmtValue(v) {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(3);
  return String(v);
}

function klassOfTask(t) {
  const eps = t.keys.map((k) => BY_KEY.get(k)).filter((e) => e && e.counted);
  if (eps.length === 1) return eps[0].klass;
  if (t.pending && !t.graded) return "pending";
  if (t.resolved) return "resolved";
  if (t.graded) return "failed";
  return t.infra ? "infra" : "pending";
}

function first(t) { return t.keys.map((k) => BY_KEY.get(k)).find((e) => e && e.counted) || BY_KEY.get(t.keys[0]); }

const CLASS_FILTER = {
  id: "klass", label: "outcome",
  options: [["", "all outcomes"], ["resolved", "resolved"], ["failed", "failed"], ["infra", "infrastructure error"], ["pending", "pending"]],
};

function taskTable() {
  const host = document.getElementById("task-table");
  if (!host) return;
  const single = TASKS.every((t) => t.episodes <= 1);
  const cols = [
    { key: "task", label: "task", cls: "mono" },
    { key: "repo", label: "repository" },
    { key: "klass", label: "outcome", value: (t) => (single ? (first(t) || {}).outcome || "" : klassOfTask(t)),
      cell: (t) => pill(klassOfTask(t), single ? (first(t) || {}).outcome || "–" : t.outcome) },
  ];
  if (!single) {
    cols.push({ key: "resolved", label: "resolved", num: true, value: (t) => t.resolved, cell: (t) => `${t.resolved}/${t.graded}` });
    cols.push({ key: "mean_reward", label: "mean reward", num: true, cell: (t) => fmt.num(t.mean_reward) });
    cols.push({ key: "pass@1", label: "pass@1", num: true, cell: (t) => fmt.pct(t["pass@1"]) });
    if (K > 1) cols.push({ key: "pass@k", label: `pass@${K}`, num: true, cell: (t) => fmt.pct(t["pass@k"]) });
    cols.push({ key: "no_signal", label: "signal", value: (t) => (t.no_signal ? "no signal" : ""),
      cell: (t) => (t.no_signal ? el("span", { class: "flag", title: "every sample got the same reward" }, "no signal") : "") });
  } else {
    cols.push({ key: "reward", label: "reward", num: true, value: (t) => (first(t) || {}).reward });
    cols.push({ key: "f2p", label: "FAIL_TO_PASS", num: true, value: (t) => (first(t) || {}).f2p || "" });
    cols.push({ key: "p2p", label: "PASS_TO_PASS", num: true, value: (t) => (first(t) || {}).p2p || "" });
    if (EPISODES.some((e) => e.turns !== null)) {
      cols.push({ key: "turns", label: "turns", num: true, value: (t) => (first(t) || {}).turns });
      cols.push({ key: "tokens", label: "tokens", num: true, value: (t) => { const e = first(t) || {}; return e.tokens_in === null ? null : (e.tokens_in || 0) + (e.tokens_out || 0); } });
    }
    cols.push({ key: "time", label: "time", num: true, value: (t) => (first(t) || {}).total_s, cell: (t) => fmt.sec((first(t) || {}).total_s) });
  }
  cols.push({ key: "infra", label: "infra", num: true });
  for (const [key, label] of D.run.note_columns) cols.push({ key: key, label: label, cls: key === "detail" ? "cause" : "" });
  if (single && !D.run.note_columns.some(([key]) => key === "cause")) {
    cols.push({ key: "cause", label: "cause", cls: "cause", value: (t) => (first(t) || {}).cause || "" });
  }
  const filters = [Object.assign({ test: (t, v) => klassOfTask(t) === v || (v === "infra" && t.infra > 0) }, CLASS_FILTER)];
  if (D.groups.length) filters.push({ id: "signal", label: "signal", options: [["", "all groups"], ["flat", "no signal only"]], test: (t) => t.no_signal });
  new Table(host, { id: "tasks", columns: cols, rows: TASKS, filters: filters, rowId: (t) => t.task,
    onOpen: (t) => openEpisode(first(t).key) });
}

function episodeTable() {
  const host = document.getElementById("episode-table");
  if (!host) return;
  const cols = [
    { key: "key", label: "episode", cls: "mono" },
    { key: "label", label: "run" },
    { key: "outcome", label: "outcome", cell: (e) => pill(e.klass, e.outcome) },
    { key: "reward", label: "reward", num: true },
    { key: "exit", label: "exit reason" },
    { key: "f2p", label: "FAIL_TO_PASS", num: true },
    { key: "p2p", label: "PASS_TO_PASS", num: true },
    { key: "turns", label: "turns", num: true },
    { key: "tokens", label: "tokens", num: true, value: (e) => (e.tokens_in === null ? null : (e.tokens_in || 0) + (e.tokens_out || 0)) },
    { key: "model_s", label: "model", num: true, cell: (e) => fmt.sec(e.model_s) },
    { key: "env_s", label: "tools", num: true, cell: (e) => fmt.sec(e.env_s) },
    { key: "verify_s", label: "verify", num: true, cell: (e) => fmt.sec(e.verify_s) },
    { key: "total_s", label: "total", num: true, cell: (e) => fmt.sec(e.total_s) },
    { key: "cause", label: "cause", cls: "cause" },
  ];
  const filters = [Object.assign({ test: (e, v) => e.klass === v }, CLASS_FILTER)];
  new Table(host, { id: "episodes", columns: cols, rows: EPISODES, filters: filters, rowId: (e) => e.key,
    onOpen: (e) => openEpisode(e.key) });
}

function repoTable() {
  const host = document.getElementById("repo-table");
  if (!host) return;
  const cols = [
    { key: "repo", label: "repository" },
    { key: "tasks", label: "tasks", num: true },
    { key: "episodes", label: "episodes", num: true },
    { key: "resolved", label: "resolved", num: true, cell: (r) => `${r.resolved}/${r.graded}` },
    { key: "rate", label: "rate", num: true, cell: (r) => fmt.pct(r.rate) },
    { key: "tasks_solved", label: "tasks solved", num: true },
    { key: "infra", label: "infra", num: true },
  ];
  new Table(host, { id: "repos", columns: cols, rows: D.figures.repos, rowId: (r) => r.repo, pageSize: 25,
    onOpen: (r) => { TABLES.tasks.setQuery(r.repo); document.getElementById("tasks").scrollIntoView(); } });
}

function compareTable() {
  const host = document.getElementById("compare-table");
  if (!host || !D.compare) return;
  const cls = { win: "resolved", loss: "failed", tie: "pending" };
  const cols = [
    { key: "task", label: "task", cls: "mono" },
    { key: "repo", label: "repository" },
    { key: "this", label: "this run", num: true, cell: (r) => fmt.pct(r.this) },
    { key: "other", label: "compared run", num: true, cell: (r) => fmt.pct(r.other) },
    { key: "delta", label: "difference", num: true, cell: (r) => (r.delta === null ? "–" : (r.delta > 0 ? "+" : "") + (100 * r.delta).toFixed(0) + " pts") },
    { key: "result", label: "result", cell: (r) => pill(cls[r.result] || "infra", r.result) },
  ];
  const filters = [{ id: "result", label: "result", test: (r, v) => (v === "changed" ? r.delta : r.result === v),
    options: [["", "all tasks"], ["changed", "changed only"], ["win", "wins"], ["loss", "losses"], ["tie", "ties"]] }];
  new Table(host, { id: "compare", columns: cols, rows: D.compare.rows, filters: filters, rowId: (r) => r.task,
    sort: { key: "delta", dir: -1 }, onOpen: (r) => { if (r.keys.length) openEpisode(r.keys[0]); } });
}

// --serve: poll for new data; reload at once unless an episode is open, then offer to.
function watch() {
  if (!D.served) return;
  let offered = false;
  setInterval(async () => {
    let stamp;
    try { stamp = (await (await fetch("stamp", { cache: "no-store" })).text()).trim(); } catch (e) { return; }
    if (!stamp || stamp === D.stamp) return;
    if (document.getElementById("viewer").hidden) { location.reload(); return; }
    if (offered) return;
    offered = true;
    document.body.append(el("div", { class: "notice", role: "status" }, "The run has new data. ",
      el("button", { type: "button", text: "reload", onclick: () => location.reload() })));
  }, 3000);
}

document.addEventListener("DOMContentLoaded", () => {
  taskTable();
  repoTable();
  episodeTable();
  compareTable();
  watch();
  window.addEventListener("hashchange", route);
  route();
});
