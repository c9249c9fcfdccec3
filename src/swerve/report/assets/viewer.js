// swerve report: the trajectory viewer. Episode details are packed in chunks (deflate + base64) and
// inflated only when one of their episodes is opened; a served page fetches the chunks instead.
"use strict";

const T = JSON.parse(document.getElementById("report-trajectories").textContent);
const CHUNKS = new Map();
let STRINGS = null;
const FOLD_LINES = 24;

async function inflate(b64) {
  if (typeof DecompressionStream === "undefined") throw new Error("this browser cannot inflate the packed data (no DecompressionStream)");
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  return JSON.parse(await new Response(stream).text());
}

async function chunk(n) {
  if (!CHUNKS.has(n)) {
    CHUNKS.set(n, (async () => {
      if (T.chunks) return inflate(T.chunks[n]);
      const response = await fetch(`chunk/${D.stamp}/${n}`, { cache: "no-store" });
      if (!response.ok) throw new Error(await response.text());
      return inflate(await response.text());
    })());
  }
  return CHUNKS.get(n);
}

async function detailOf(key) {
  const where = T.index[key];
  if (!where) return null;
  if (STRINGS === null) STRINGS = inflate(T.strings);
  const [items, strings] = await Promise.all([chunk(where[0]), STRINGS]);
  return { detail: items[where[1]], strings: strings };
}

// A stored text: a string, a {ref} into the string table, or {head, tail, cut} when cut at packing.
function textOf(v, strings) {
  if (v && typeof v === "object" && "ref" in v) return strings[v.ref] ?? "";
  return v;
}

function folded(v, strings, { lines = FOLD_LINES, cls = "", tail = false } = {}) {
  v = textOf(v, strings);
  if (v && typeof v === "object") {
    return el("pre", { class: cls }, v.head, el("span", { class: "fold-note" }, `\n… ${v.cut} characters not kept in the report …\n`), v.tail);
  }
  const text = String(v ?? "");
  const all = text.split("\n");
  if (all.length <= lines + 4) return el("pre", { class: cls }, text);
  const short = tail ? all.slice(-lines).join("\n") : all.slice(0, lines).join("\n");
  const pre = el("pre", { class: cls + " folded" }, short);
  const button = el("button", { type: "button", class: "unfold", text: `show all ${all.length} lines` });
  button.addEventListener("click", () => {
    const open = pre.classList.toggle("folded");
    pre.textContent = open ? short : text;
    button.textContent = open ? `show all ${all.length} lines` : "fold";
  });
  const note = el("div", { class: "fold-note" }, tail ? `last ${lines} of ${all.length} lines ` : `first ${lines} of ${all.length} lines `, button);
  return el("div", {}, tail ? [note, pre] : [pre, note]);
}

function diffView(patch, strings) {
  patch = textOf(patch, strings);
  if (patch && typeof patch === "object") patch = patch.head + `\n… ${patch.cut} characters not kept …\n` + patch.tail;
  if (!patch) return el("p", { class: "fold-note" }, "no changes (empty patch)");
  const pre = el("pre", { class: "diff" });
  for (const line of patch.split("\n")) {
    let cls = "";
    if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("diff --git")) cls = "file";
    else if (line.startsWith("@@")) cls = "hunk";
    else if (line.startsWith("+")) cls = "add";
    else if (line.startsWith("-")) cls = "del";
    pre.append(cls ? el("span", { class: cls }, line) : line + "\n");
  }
  return pre;
}

function testsView(tests, strings) {
  const groups = Object.entries(tests || {});
  if (!groups.length) return el("p", { class: "fold-note" }, "no test results (the tests did not run, or the log could not be read)");
  const names = (v) => (Array.isArray(v) ? v : v && "ref" in v ? JSON.parse(strings[v.ref]) : []);
  return groups.map(([group, status]) => {
    const ok = names(status.success), bad = names(status.failure);
    const items = [...bad.map((n) => el("li", { class: "fail", "data-test": n, "data-result": "fail" }, n)),
      ...ok.map((n) => el("li", { class: "pass", "data-test": n, "data-result": "pass" }, n))];
    const list = el("ul", { class: "tests mono" }, items.slice(0, 60));
    const rest = items.slice(60);
    const more = rest.length ? el("button", { type: "button", text: `show ${rest.length} more`, onclick: (ev) => { list.append(...rest); ev.target.remove(); } }) : null;
    const cut = status.cut ? el("p", { class: "fold-note" }, `${status.cut} more tests not kept in the report`) : null;
    return el("div", { class: "test-group", "data-group": group },
      el("h4", {}, `${group}: ${ok.length} passed, ${bad.length} failed`), list, more, cut);
  });
}

function argsView(args, strings) {
  if (args === null || args === undefined) return null;
  if (typeof args !== "object" || Array.isArray(args)) return folded(JSON.stringify(args, null, 1), strings, { lines: 12 });
  if (args.head !== undefined && args.cut !== undefined) return folded(args, strings);
  return Object.entries(args).map(([k, v]) => {
    const long = typeof v === "object" || (typeof v === "string" && (v.length > 80 || v.includes("\n")));
    if (!long) return el("div", { class: "arg" }, `${k}: `, el("code", {}, typeof v === "string" ? v : JSON.stringify(v)));
    return el("div", { class: "arg" }, `${k}:`, typeof v === "string" || (v && v.cut !== undefined) ? folded(v, strings, { lines: 16 }) : el("pre", {}, JSON.stringify(v, null, 1)));
  });
}

function messageView(m, strings, n) {
  const role = m.role;
  const isError = role === "tool" && /^(Error|error:)|\[Exit code: [1-9]/.test(String(textOf(m.text, strings) || "").slice(-400));
  const who = el("div", { class: "who" }, el("b", {}, role), m.name ? el("span", {}, m.name) : null, el("span", {}, `#${n}`));
  const body = [];
  const text = textOf(m.text, strings);
  if (text && (typeof text === "object" || text.length)) {
    const lines = role === "system" ? 6 : role === "tool" ? FOLD_LINES : 60;
    body.push(el("div", { class: "body" }, folded(m.text, strings, { lines: lines })));
  }
  for (const call of m.calls || []) {
    body.push(el("div", { class: "call" }, el("div", { class: "name" }, "→ " + call.name), argsView(call.args, strings)));
  }
  return el("div", { class: `msg ${role}${isError ? " error" : ""}`, "data-role": role }, who, body);
}

function verdictView(row, d) {
  const v = d ? d.verdict || {} : {};
  const items = [["outcome", pill(row.klass, row.outcome)], ["reward", fmtValue(row.reward)], ["run", row.label],
    ["resolution", v.resolution], ["cause", row.cause || v.cause], ["exit reason", row.exit], ["tests exit code", v.test_exit_code],
    ["FAIL_TO_PASS", row.f2p], ["PASS_TO_PASS", row.p2p], ["turns", row.turns],
    ["tokens", row.tokens_in === null ? null : `${row.tokens_in} in, ${row.tokens_out} out`],
    ["time", row.total_s === null ? null : fmt.sec(row.total_s) + timeParts(row)]];
  return el("dl", { class: "kv", id: "verdict" }, items.filter(([, x]) => x !== null && x !== undefined && x !== "")
    .map(([k, x]) => [el("dt", {}, k), el("dd", { "data-field": k }, x)]));
}

function timeParts(row) {
  const parts = [["model", row.model_s], ["tools", row.env_s], ["verify", row.verify_s]].filter(([, v]) => v !== null && v !== undefined);
  return parts.length ? ` (${parts.map(([k, v]) => `${k} ${fmt.sec(v)}`).join(", ")})` : "";
}

function section(id, title, ...content) {
  return el("section", { id: id }, el("h3", {}, title), content);
}

async function renderEpisode(row) {
  const body = document.getElementById("viewer-body");
  body.replaceChildren(el("p", { class: "fold-note" }, "loading…"));
  let found = null, problem = "";
  try { found = await detailOf(row.key); } catch (e) { problem = String(e.message || e); }
  const d = found ? found.detail : null, strings = found ? found.strings : [];
  const parts = [section("v-verdict", "Verdict", verdictView(row, d))];
  if (!d) {
    const why = problem || (T.omitted ? "this episode's trajectory is not in this file (its size budget was reached); `swerve report --serve` shows it"
      : "this run kept no trajectory or logs for this episode");
    parts.push(el("p", { class: "fold-note", id: "no-detail" }, why));
  } else {
    if (d.scale) {
      parts.push(el("p", { class: "fold-note" }, `Long texts of this episode were cut to ${Math.round(100 * d.scale)}% of the usual length to fit the file's size budget; \`swerve report --serve\` shows them in full.`));
    }
    if (!d.messages.length) parts.push(el("p", { class: "fold-note" }, "no conversation was recorded for this episode"));
    for (const [label, text] of d.notes.filter(([l]) => !l.startsWith("harness"))) parts.push(section("", label, folded(text, strings, { lines: 12 })));
    parts.push(section("v-diff", "Final diff", diffView(d.patch, strings)));
    parts.push(section("v-tests", "Tests", testsView(d.tests, strings)));
    if (d.messages.length) parts.push(section("v-conversation", `Conversation (${d.messages.length} messages)`, d.messages.map((m, i) => messageView(m, strings, i + 1))));
    if (d.log) parts.push(section("v-log", "Test log (tail)", folded(d.log, strings, { lines: 40, tail: true })));
    for (const [label, text] of d.notes.filter(([l]) => l.startsWith("harness"))) parts.push(section("v-harness", label, folded(text, strings, { lines: 12, tail: true })));
  }
  body.replaceChildren(...parts);
}

function openEpisode(key) {
  if (location.hash !== "#episode=" + encodeURIComponent(key)) location.hash = "episode=" + encodeURIComponent(key);
  else route();
}

function showEpisode(key) {
  const row = BY_KEY.get(key);
  const viewer = document.getElementById("viewer");
  if (!row) { closeViewer(); return; }
  viewer.hidden = false;
  document.getElementById("viewer-title").textContent = row.task + (row.label ? " · " + row.label : "");
  const siblings = EPISODES.filter((e) => e.task === row.task).sort((a, b) => a.sample - b.sample || (a.key < b.key ? -1 : 1));
  const tabs = document.getElementById("viewer-samples");
  tabs.replaceChildren(...(siblings.length > 1 ? siblings.map((e) => el("button", {
    type: "button", "aria-current": e.key === key ? "true" : "false", title: e.outcome,
    onclick: () => openEpisode(e.key), class: "sample " + e.klass }, sampleLabel(e))) : []));
  renderEpisode(row);
  document.getElementById("viewer-close").focus();
}

function sampleLabel(e) {
  const tail = e.key.slice(e.task.length + 1);
  return /^\d+$/.test(tail) ? "sample " + tail : tail || e.key;
}

function closeViewer() {
  document.getElementById("viewer").hidden = true;
  if (!location.hash.startsWith("#episode=")) return;
  try { history.pushState(null, "", location.pathname + location.search); } catch (e) { location.hash = ""; }
}

function route() {
  const m = location.hash.match(/^#episode=(.+)$/);
  if (m) showEpisode(decodeURIComponent(m[1]));
  else document.getElementById("viewer").hidden = true;
}

document.getElementById("viewer-close").addEventListener("click", closeViewer);
document.getElementById("viewer").addEventListener("click", (ev) => { if (ev.target.id === "viewer") closeViewer(); });
document.addEventListener("keydown", (ev) => { if (ev.key === "Escape" && !document.getElementById("viewer").hidden) closeViewer(); });
