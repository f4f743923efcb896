// The ksql web console: an SQL editor whose statements go to the server's REST API (/ksql,
// /query-stream), a catalog, the persistent queries with their rates, and the cluster.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { properties: {}, query: null, history: {}, last: null };

// ---------------------------------------------------------------- the REST API

async function ksql(sql) {
  const response = await fetch("/ksql", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ksql: sql, streamsProperties: state.properties }),
  });
  const body = await response.json();
  if (!response.ok) throw Object.assign(new Error(body.message), { body });
  return body;
}

function properties() {
  state.properties = { "auto.offset.reset": $("offset").value };
}

// ---------------------------------------------------------------- the editor

let editor;

async function setUpEditor() {
  const words = await (await fetch("/console/words")).json();
  const set = (list) => Object.fromEntries(list.map((w) => [w.toLowerCase(), true]));
  CodeMirror.defineMIME("text/x-ksql", {
    name: "sql", keywords: set(words.keywords), builtin: set(words.functions),
    atoms: set(["true", "false", "null"]), operatorChars: /^[*+\-%<>!=&|/]/, dateSQL: {},
    support: CodeMirror.resolveMode("text/x-sql").support,
  });
  editor = CodeMirror.fromTextArea($("sql"), {
    mode: "text/x-ksql", lineNumbers: true,
    extraKeys: { "Ctrl-Enter": run, "Cmd-Enter": run, "Esc": stop, "Ctrl-Space": "autocomplete" },
    hintOptions: { completeSingle: false, tables: {} },
  });
  window.editor = editor;  // (for the browser tests)
  editor.on("inputRead", (cm, change) => {
    if (/^[A-Za-z_]$/.test(change.text[0])) cm.showHint({ hint: hint(words), completeSingle: false });
  });
}

function hint(words) {
  const all = [...words.keywords, ...words.functions];
  return (cm) => {
    const cursor = cm.getCursor(), token = cm.getTokenAt(cursor);
    const prefix = token.string.trim().toUpperCase();
    if (!prefix) return null;
    const names = Object.keys(cm.getOption("hintOptions").tables || {});
    const list = [...new Set([...all, ...names])].filter((w) => w.toUpperCase().startsWith(prefix)).slice(0, 40);
    return { list, from: CodeMirror.Pos(cursor.line, token.start), to: CodeMirror.Pos(cursor.line, token.end) };
  };
}

function selectedSql() {
  return (editor.somethingSelected() ? editor.getSelection() : editor.getValue()).trim();
}

function showError(message) {
  const box = $("error");
  box.hidden = false;
  box.textContent = message;
  editor.eachLine((line) => editor.removeLineClass(line, "background", "cm-error-line"));
  const at = /line (\d+):(\d+)/i.exec(message) || /^<[^>]*>:(\d+):(\d+)/.exec(message);
  if (at) {
    const line = Number(at[1]) - 1, column = Number(at[2]) - 1;
    editor.addLineClass(line, "background", "cm-error-line");
    editor.setCursor({ line, ch: column });
    editor.focus();
  }
}

function clearOutput() {
  $("error").hidden = true;
  $("results").replaceChildren();
  $("status").textContent = "";
}

async function run() {
  if (state.query) await stop();
  clearOutput();
  properties();
  const sql = selectedSql();
  if (!sql) return;
  if (/^\s*(SELECT|PRINT)\b/i.test(sql)) return stream(sql);
  try {
    for (const entity of await ksql(sql)) $("results").append(render(entity));
    refreshNames();
  } catch (error) {
    showError(error.message);
  }
}

// ---------------------------------------------------------------- queries with rows

async function stream(sql) {
  const controller = new AbortController();
  const started = performance.now();
  const query = { controller, id: null, count: 0 };
  state.query = query;
  $("stop").disabled = false;
  let table = null;
  try {
    const response = await fetch("/query-stream", {
      method: "POST", signal: controller.signal,
      headers: { "Content-Type": "application/json", "Accept": "application/vnd.ksqlapi.delimited.v1" },
      body: JSON.stringify({ sql, properties: state.properties }),
    });
    if (!response.ok) {
      showError((await response.json()).message);
      return;
    }
    const isPrint = /^\s*PRINT\b/i.test(sql);
    const out = isPrint ? document.createElement("pre") : null;
    if (out) $("results").append(out);
    const reader = response.body.getReader(), decoder = new TextDecoder();
    let pending = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      pending += decoder.decode(value, { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop();
      for (const line of lines) {
        if (!line) continue;
        if (isPrint) { out.textContent += line + "\n"; query.count++; continue; }
        const parsed = JSON.parse(line);
        if (!Array.isArray(parsed)) {
          if (parsed.queryId !== undefined) {
            query.id = parsed.queryId;
            table = rowsTable(parsed.columnNames);
            $("results").append(table);
          } else if (parsed.message) {
            showError(parsed.message);
          }
          continue;
        }
        appendRow(table, parsed);
        query.count++;
      }
      const seconds = (performance.now() - started) / 1000;
      $("status").textContent = `${query.count} rows, ${Math.round(query.count / Math.max(seconds, 0.001))} rows/s`;
    }
    $("status").textContent = `${query.count} rows`;
  } catch (error) {
    if (error.name !== "AbortError") showError(error.message);
  } finally {
    if (state.query === query) state.query = null;
    $("stop").disabled = true;
  }
}

async function stop() {
  const query = state.query;
  if (!query) return;
  state.query = null;
  query.controller.abort();
  if (query.id) {
    await fetch("/close-query", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ queryId: query.id }),
    });
  }
  $("status").textContent = `${query.count} rows (stopped)`;
  $("stop").disabled = true;
}

function rowsTable(names) {
  const table = document.createElement("table");
  table.className = "rows";
  const head = table.createTHead().insertRow();
  for (const name of names) head.append(Object.assign(document.createElement("th"), { textContent: name }));
  table.createTBody();
  return table;
}

function appendRow(table, values) {
  const row = table.tBodies[0].insertRow();
  for (const value of values) row.insertCell().textContent = typeof value === "object" && value !== null
    ? JSON.stringify(value) : String(value);
}

// ---------------------------------------------------------------- entities

function cellsTable(headers, rows) {
  const table = rowsTable(headers);
  for (const row of rows) appendRow(table, row);
  return table;
}

function render(entity) {
  const type = entity["@type"];
  const div = document.createElement("div");
  if (type === "currentStatus") {
    div.className = "message";
    div.textContent = entity.commandStatus.message;
    return div;
  }
  const lists = {
    streams: ["Stream Name", "Kafka Topic", "Key Format", "Value Format"],
    tables: ["Table Name", "Kafka Topic", "Key Format", "Value Format"],
  };
  if (lists[type]) {
    return cellsTable(lists[type], entity[type].map((s) => [s.name, s.topic, s.keyFormat, s.valueFormat]));
  }
  if (type === "queries") {
    return cellsTable(["Query ID", "Status", "Sink", "Query"],
      entity.queries.map((q) => [q.id, q.state, (q.sinks || []).join(", "), q.queryString]));
  }
  if (type === "kafka_topics" || type === "kafka_topics_extended") {
    return cellsTable(["Kafka Topic", "Partitions"], entity.topics.map((t) => [t.name, t.replicaInfo.length]));
  }
  if (type === "sourceDescription") {
    const d = entity.sourceDescription;
    return cellsTable(["Field", "Type"], d.fields.map((f) => [f.name, f.schema.type + (f.type === "KEY" ? " (key)" : "")]));
  }
  if (type === "warning_entity" || type === "error_entity") {
    div.className = "message";
    div.textContent = entity.message || entity.errorMessage;
    return div;
  }
  const pre = document.createElement("pre");
  pre.textContent = entity.text || JSON.stringify(entity, null, 2);
  return pre;
}

// ---------------------------------------------------------------- the catalog

async function refreshNames() {
  try {
    const [streams, tables] = await ksql("SHOW STREAMS; SHOW TABLES;");
    const tablesOption = {};
    for (const s of [...streams.streams, ...tables.tables]) tablesOption[s.name] = [];
    editor.setOption("hintOptions", { ...editor.getOption("hintOptions"), tables: tablesOption });
  } catch (error) { /* the editor completes keywords without names */ }
}

function item(list, text, onClick) {
  const li = document.createElement("li");
  li.textContent = text;
  li.onclick = onClick;
  list.append(li);
}

async function describe(sql) {
  const [entity] = await ksql(sql);
  $("detail").replaceChildren(render(entity));
}

function printTopic(name, fromBeginning) {
  show("editor");
  editor.setValue(`PRINT '${name}'${fromBeginning ? " FROM BEGINNING" : ""} LIMIT 100;`);
  run();
}

async function catalog() {
  const [streams, tables, topics, types, functions] = await ksql(
    "SHOW STREAMS; SHOW TABLES; SHOW TOPICS; SHOW TYPES; SHOW FUNCTIONS;");
  for (const [id, list] of [["streams", streams.streams], ["tables", tables.tables]]) {
    $(id).replaceChildren();
    for (const s of list) item($(id), s.name, () => describe(`DESCRIBE ${quote(s.name)} EXTENDED;`));
  }
  const sizes = Object.fromEntries((await (await fetch("/console/topics")).json()).map((t) => [t.name, t.messages]));
  const rows = topics.topics.map((t) => [t.name, t.replicaInfo.length, sizes[t.name] ?? "",
                                         "from the beginning", "from the end"]);
  const table = cellsTable(["Topic", "Partitions", "Messages", "Print", ""], rows);
  for (const [i, t] of topics.topics.entries()) {
    const cells = table.tBodies[0].rows[i].cells;
    cells[3].className = cells[4].className = "link";
    cells[3].onclick = () => printTopic(t.name, true);
    cells[4].onclick = () => printTopic(t.name, false);
  }
  $("topics").replaceWith(Object.assign(table, { id: "topics" }));
  $("types").replaceChildren();
  for (const name of Object.keys(types.types)) item($("types"), name, () => describe(`SHOW TYPES;`));
  $("functions").replaceChildren();
  for (const f of functions.functions) item($("functions"), `${f.name} (${f.type.toLowerCase()})`,
    () => describe(`DESCRIBE FUNCTION ${f.name};`));
}

function quote(name) {
  return /^[A-Z_][A-Z0-9_]*$/.test(name) ? name : "`" + name.replace(/`/g, "``") + "`";
}

// ---------------------------------------------------------------- persistent queries

function parseMetrics(text) {
  const out = {};
  for (const line of text.split("\n")) {
    const m = /^ksql_query_(records_in|records_out|lag|errors)\{query="([^"]+)"\} ([0-9.e+-]+)/.exec(line);
    if (m) (out[m[2]] ||= {})[m[1]] = Number(m[3]);
  }
  return out;
}

async function queries() {
  const [[list], metricsText] = await Promise.all([ksql("SHOW QUERIES;"), (await fetch("/metrics")).text()]);
  const now = Date.now() / 1000, metrics = parseMetrics(metricsText);
  const table = rowsTable(["Query ID", "State", "Sink", "In/s", "Out/s", "Lag", "Errors", "Rates", ""]);
  for (const q of list.queries) {
    const m = metrics[q.id] || {}, history = (state.history[q.id] ||= []);
    const previous = history[history.length - 1];
    const rate = (field) => previous ? Math.max((m[field] - previous[field]) / (now - previous.at), 0) : 0;
    const sample = { at: now, records_in: m.records_in || 0, records_out: m.records_out || 0,
                     inRate: rate("records_in"), outRate: rate("records_out") };
    history.push(sample);
    if (history.length > 60) history.shift();
    const row = table.tBodies[0].insertRow();
    row.dataset.query = q.id;
    for (const value of [q.id, q.state, (q.sinks || []).join(", "), sample.inRate.toFixed(0),
                         sample.outRate.toFixed(0), m.lag ?? "", m.errors ?? ""]) row.insertCell().textContent = value;
    row.cells[0].className = "link";
    row.cells[0].onclick = () => plan(q.id);
    chart(row.insertCell(), history);
    const actions = row.insertCell();
    for (const [label, statement] of [["Terminate", "TERMINATE"], ["Pause", "PAUSE"], ["Resume", "RESUME"]]) {
      const button = Object.assign(document.createElement("button"), { textContent: label });
      button.onclick = async () => { await ksql(`${statement} ${q.id};`); queries(); };
      actions.append(button);
    }
  }
  $("queries").replaceWith(Object.assign(table, { id: "queries" }));
}

function chart(cell, history) {
  const div = Object.assign(document.createElement("div"), { className: "chart" });
  cell.append(div);
  if (history.length < 2) return;
  const data = [history.map((h) => h.at), history.map((h) => h.inRate), history.map((h) => h.outRate)];
  new uPlot({ width: 260, height: 70, legend: { show: false }, axes: [{ show: false }, { size: 40 }],
              series: [{}, { stroke: "#2b6cb0", label: "in/s" }, { stroke: "#2f855a", label: "out/s" }] }, data, div);
}

async function plan(id) {
  const [entity] = await ksql(`EXPLAIN ${id};`);
  const lines = entity.queryDescription.executionPlan.split("\n");
  const root = document.createElement("ul");
  const stack = [[-1, root]];
  for (const line of lines) {
    const text = line.replace(/^[\s│├└─]+/, "");
    const depth = (line.length - text.length) / 4;
    while (stack[stack.length - 1][0] >= depth) stack.pop();
    const li = document.createElement("li");
    const node = Object.assign(document.createElement("span"), { className: "node", textContent: text });
    if (/^Sink\b/.test(text)) node.classList.add("sink");
    if (/^Source\b/.test(text)) node.classList.add("source");
    li.append(node);
    const children = document.createElement("ul");
    li.append(children);
    stack[stack.length - 1][1].append(li);
    stack.push([depth, children]);
  }
  const box = Object.assign(document.createElement("div"), { className: "plan" });
  box.append(Object.assign(document.createElement("h2"), { textContent: `${id}: its plan` }), root);
  $("plan").replaceChildren(box);
}

// ---------------------------------------------------------------- the cluster

async function cluster() {
  const status = await (await fetch("/clusterStatus")).json();
  const lag = (s) => Object.values(s.hostStoreLags?.stateStoreLags || {}).flatMap((store) =>
    Object.values(store.lagByPartition || {})).reduce((sum, p) => sum + (p.offsetLag || 0), 0);
  const rows = Object.entries(status.clusterStatus || {}).map(([host, s]) => [
    host, s.hostAlive ? "alive" : "down", lag(s),
    Object.entries(s.activeStandbyPerQuery || {}).map(([q, a]) =>
      `${q}: ${(a.activePartitions || []).map((p) => `${p.topic}-${p.partition}`).join(" ")}`).join("; ")]);
  $("cluster").replaceWith(Object.assign(cellsTable(["Server", "State", "Lag", "Partitions by query"], rows),
                                         { id: "cluster" }));
}

// ---------------------------------------------------------------- views

const refreshers = { catalog, queries, cluster };
let timer = null;

function show(view) {
  for (const button of document.querySelectorAll("nav button")) button.classList.toggle("active", button.dataset.view === view);
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `${view}-view`;
  clearInterval(timer);
  const refresh = refreshers[view];
  if (refresh) {
    refresh();
    if (view !== "catalog") timer = setInterval(refresh, 2000);
  }
  if (view === "editor") editor.refresh();
}

async function main() {
  await setUpEditor();
  for (const button of document.querySelectorAll("nav button")) button.onclick = () => show(button.dataset.view);
  $("run").onclick = run;
  $("stop").onclick = stop;
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") stop(); });
  const info = await (await fetch("/info")).json();
  $("server").textContent = `${info.KsqlServerInfo.ksqlServiceId} · ${info.KsqlServerInfo.serverStatus}`;
  refreshNames();
}

main();
