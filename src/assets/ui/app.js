// The amp-edge dashboard: a thin client of the admin API, served by the Worker as a static asset.
// The token lives in sessionStorage only (gone when the browser session ends); with the read token
// every screen shows, but the deploy and stop buttons do not.
"use strict";

const TOKEN_KEY = "amp-edge-token";
const REFRESH_MS = 2000;
const view = document.getElementById("view");
const session = { token: sessionStorage.getItem(TOKEN_KEY), canWrite: false };
let refreshTimer = null;
let chart = null;

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(path, init = {}) {
  const headers = { ...(init.headers || {}) };
  if (session.token) headers.authorization = `Bearer ${session.token}`;
  const response = await fetch(path, { ...init, headers });
  const text = await response.text();
  const body = text === "" ? null : JSON.parse(text);
  if (!response.ok) throw new ApiError(response.status, body && body.error_code, (body && body.error_message) || response.statusText);
  return body;
}

function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

const fmt = {
  bytes(n) {
    if (n === null || n === undefined) return "–";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let value = n;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
    return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
  },
  time(iso) { return iso ? new Date(iso).toLocaleString() : "–"; },
  block(n) { return n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US"); },
};

const statusBadge = (status) => h("span", { class: `status ${status}`, "data-testid": "status" }, status);
const TERMINAL = ["COMPLETED", "STOPPED", "FAILED"];
const dump = (job) => (job.descriptor && job.descriptor.Dump) || {};
const datasetOf = (job) => `${dump(job).dataset_namespace}/${dump(job).dataset_name}`;

/** The range of blocks a file holds, from its name (`<start>-<end>-<hash>.parquet`, reference §5.4). */
function fileRange(name) {
  const match = /^(\d+)-(\d+)-/.exec(name);
  return match ? { start: Number(match[1]), end: Number(match[2]) } : null;
}

function progressBar(table, endBlock) {
  const end = /^\d+$/.test(String(endBlock)) ? Number(endBlock) : null;
  const done = table.current_block === null ? 0 : table.current_block - table.start_block + 1;
  if (end === null || table.start_block === null) return h("span", { class: "muted" }, table.current_block === null ? "nothing yet" : `${fmt.block(done)} blocks`);
  const total = end - table.start_block + 1;
  const share = Math.max(0, Math.min(1, done / total));
  return h("div", { class: "bar", title: `${done} of ${total} blocks` }, h("span", { style: `width:${(share * 100).toFixed(1)}%` }));
}

function progressTable(tables, endBlock) {
  return h("table", { "data-testid": "progress" },
    h("tr", {}, h("th", {}, "table"), h("th", {}, "progress"), h("th", { class: "num" }, "first block"), h("th", { class: "num" }, "last block"), h("th", { class: "num" }, "files"), h("th", { class: "num" }, "size"), h("th", {}, "writer")),
    tables.map((t) => h("tr", { "data-table": t.table_name },
      h("td", {}, t.table_name),
      h("td", {}, progressBar(t, endBlock)),
      h("td", { class: "num" }, fmt.block(t.start_block)),
      h("td", { class: "num", "data-testid": "current-block" }, fmt.block(t.current_block)),
      h("td", { class: "num" }, t.files_count),
      h("td", { class: "num" }, fmt.bytes(t.total_size_bytes)),
      h("td", {}, t.job_id ? h("a", { href: `#/jobs/${t.job_id}` }, `job ${t.job_id}`) : "–", " ", t.job_status ? statusBadge(t.job_status) : ""))));
}

// ---- screens ------------------------------------------------------------------------------

async function datasetsScreen() {
  const { datasets } = await api("/datasets");
  return [h("h1", {}, "Datasets"),
    datasets.length === 0 ? h("p", { class: "muted" }, "No dataset registered yet: POST /datasets.") :
    h("table", {}, h("tr", {}, h("th", {}, "dataset"), h("th", {}, "latest version"), h("th", {}, "versions")),
      datasets.map((d) => h("tr", {}, h("td", {}, h("a", { href: `#/datasets/${d.namespace}/${d.name}` }, `${d.namespace}/${d.name}`)), h("td", {}, d.latest_version || "–"), h("td", {}, (d.versions || []).join(", ")))))];
}

async function datasetScreen(namespace, name) {
  const base = `/datasets/${namespace}/${name}`;
  const versions = await api(`${base}/versions`);
  const revision = new URLSearchParams(location.hash.split("?")[1] || "").get("revision") || versions.special_tags.latest || "dev";
  const [progress, schedule] = await Promise.all([
    api(`${base}/versions/${revision}/progress`).catch(() => null),
    api(`${base}/versions/${revision}/schedule`).catch((error) => (error.code === "SCHEDULE_NOT_FOUND" ? null : Promise.reject(error))),
  ]);
  const running = progress && progress.tables.find((t) => t.job_id && !TERMINAL.includes(t.job_status));
  return [h("h1", {}, `${namespace}/${name}`),
    h("h2", {}, "Versions"),
    h("table", {}, h("tr", {}, h("th", {}, "version"), h("th", {}, "manifest"), h("th", {}, "updated")),
      versions.versions.map((v) => h("tr", {}, h("td", {}, h("a", { href: `#/datasets/${namespace}/${name}?revision=${v.version}` }, v.version), v.version === revision ? " ◀" : ""), h("td", { class: "mono" }, v.manifest_hash.slice(0, 16), "…"), h("td", {}, fmt.time(v.updated_at))))),
    h("h2", {}, `Progress of ${revision}`),
    progress ? progressTable(progress.tables, null) : h("p", { class: "muted" }, "No progress yet."),
    session.canWrite ? deployForm(base, revision, running) : null,
    h("h2", {}, "Schedule"),
    schedule ? h("div", { class: "card grid", "data-testid": "schedule" },
      h("div", {}, h("span", {}, "cron"), h("code", {}, schedule.cron), ` (${schedule.timezone})`),
      h("div", {}, h("span", {}, "end block"), JSON.stringify(schedule.end_block)),
      h("div", {}, h("span", {}, "enabled"), schedule.enabled ? "yes" : "no"),
      h("div", {}, h("span", {}, "next run"), fmt.time(schedule.next_run_at)),
      h("div", {}, h("span", {}, "last run"), schedule.last_run ? `${schedule.last_run.outcome || "running"} at ${fmt.time(schedule.last_run.due_at)}` : "never"),
      schedule.last_run && schedule.last_run.job_id ? h("div", {}, h("span", {}, "last job"), h("a", { href: `#/jobs/${schedule.last_run.job_id}` }, `job ${schedule.last_run.job_id}`)) : null)
      : h("p", { class: "muted" }, "No schedule: PUT …/schedule sets one.")];
}

function deployForm(base, revision, running) {
  const message = h("p", { class: "error", "data-testid": "deploy-error" });
  const form = h("form", { class: "card inline", id: "deploy-form" },
    h("label", {}, "end block", h("input", { name: "end_block", placeholder: "latest, N, -N or empty for continuous", value: "latest", size: 28 })),
    h("label", {}, "parallelism", h("input", { name: "parallelism", type: "number", min: 1, value: 1, style: "width:80px" })),
    h("button", { type: "submit", id: "deploy" }, `Deploy ${revision}`),
    running ? h("span", { class: "muted" }, `job ${running.job_id} is ${running.job_status}: a deploy answers it`) : null,
    message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const text = String(data.get("end_block")).trim();
    const endBlock = text === "" ? null : /^-?\d+$/.test(text) ? Number(text) : text;
    try {
      const { job_id } = await api(`${base}/versions/${revision}/deploy`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ end_block: endBlock, parallelism: Number(data.get("parallelism")) }),
      });
      location.hash = `#/jobs/${job_id}`;
    } catch (error) {
      message.textContent = `${error.code || error.status}: ${error.message}`;
    }
  });
  return [h("h2", {}, "Deploy"), form];
}

async function jobsScreen() {
  const { jobs } = await api("/jobs?limit=50");
  const progress = await Promise.all(jobs.map((job) => (TERMINAL.includes(job.status) ? null : api(`/datasets/${dump(job).dataset_namespace}/${dump(job).dataset_name}/versions/${dump(job).manifest_hash}/progress`).catch(() => null))));
  return [h("h1", {}, "Jobs"),
    jobs.length === 0 ? h("p", { class: "muted" }, "No jobs yet.") :
    h("table", { "data-testid": "jobs" }, h("tr", {}, h("th", {}, "job"), h("th", {}, "dataset"), h("th", {}, "status"), h("th", {}, "end block"), h("th", {}, "progress"), h("th", {}, "updated")),
      jobs.map((job, i) => h("tr", { "data-job": job.id },
        h("td", {}, h("a", { href: `#/jobs/${job.id}` }, `#${job.id}`)),
        h("td", {}, datasetOf(job)),
        h("td", {}, statusBadge(job.status)),
        h("td", {}, dump(job).end_block === null || dump(job).end_block === undefined ? "continuous" : String(dump(job).end_block)),
        h("td", {}, progress[i] ? progress[i].tables.map((t) => h("div", {}, h("span", { class: "muted" }, `${t.table_name}: `), fmt.block(t.current_block))) : ""),
        h("td", {}, fmt.time(job.updated_at)))))];
}

async function jobScreen(id) {
  const job = await api(`/jobs/${id}`);
  const d = dump(job);
  const [progress, events] = await Promise.all([
    api(`/datasets/${d.dataset_namespace}/${d.dataset_name}/versions/${d.manifest_hash}/progress`).catch(() => null),
    api(`/jobs/${id}/events?limit=1000`),
  ]);
  const stop = session.canWrite && !TERMINAL.includes(job.status)
    ? h("button", { class: "danger", id: "stop-job", onclick: async (event) => { event.target.disabled = true; await api(`/jobs/${id}/stop`, { method: "PUT" }); refresh(); } }, "Stop")
    : null;
  const chartBox = h("div", { class: "card", id: "blocks-chart" });
  const screen = [h("h1", {}, `Job #${job.id} `, h("span", { "data-testid": "job-status", "data-status": job.status }, statusBadge(job.status)), " ", stop),
    h("div", { class: "card grid" },
      h("div", {}, h("span", {}, "dataset"), h("a", { href: `#/datasets/${d.dataset_namespace}/${d.dataset_name}` }, datasetOf(job))),
      h("div", {}, h("span", {}, "end block"), d.end_block === null || d.end_block === undefined ? "continuous" : String(d.end_block)),
      h("div", {}, h("span", {}, "parallelism"), d.max_writers),
      h("div", {}, h("span", {}, "provider"), job.provider || "–"),
      h("div", {}, h("span", {}, "created"), fmt.time(job.created_at)),
      h("div", {}, h("span", {}, "updated"), fmt.time(job.updated_at))),
    job.failure_reason ? h("p", { class: "error" }, job.failure_reason) : null,
    h("h2", {}, "Progress"),
    progress ? progressTable(progress.tables, barEnd(job, progress.tables)) : h("p", { class: "muted" }, "No progress."),
    h("h2", {}, "Blocks extracted over time"),
    chartBox,
    h("h2", {}, "Events"),
    h("ul", { class: "timeline", "data-testid": "events" }, events.events.slice().reverse().map((e) => h("li", {}, h("span", { class: "muted" }, fmt.time(e.created_at), " "), h("span", { class: "kind" }, e.kind), " ", eventSummary(e))))];
  requestAnimationFrame(() => drawChart(chartBox, events.events));
  return screen;
}

/** The block a job's bars fill up to: its end block when it names one, the blocks it reached once it completed. */
function barEnd(job, tables) {
  if (job.status === "COMPLETED") return Math.max(...tables.map((t) => t.current_block ?? 0));
  return dump(job).end_block;
}

function eventSummary(event) {
  const d = event.detail || {};
  const range = d.range ? `${d.range.start}..=${d.range.end}` : "";
  switch (event.kind) {
    case "step_completed": return `${range}: ${d.rows} rows, ${d.files} files, ${fmt.bytes(d.bytes)} in ${d.duration_ms} ms`;
    case "step_started": return `${range}, attempt ${d.attempt}`;
    case "step_failed": return `${range}, attempt ${d.attempt}: ${d.error || ""} ${d.reason}`;
    case "head_read_failed": return `attempt ${d.attempt}: ${d.reason}`;
    case "failed": return d.reason;
    case "scheduled": return d.schedule ? `by schedule ${d.schedule.cron} (${d.schedule.timezone}), due ${fmt.time(d.schedule.due_at)}` : "by request";
    case "running": return d.provider ? `provider ${d.provider}` : "";
    default: return "";
  }
}

/** Cumulative blocks of the completed steps against time: the job's speed at a glance. */
function drawChart(box, events) {
  if (chart) { chart.destroy(); chart = null; }
  const steps = events.filter((e) => e.kind === "step_completed" && e.detail && e.detail.range);
  if (steps.length === 0) { box.append(h("p", { class: "muted" }, "No step completed yet.")); return; }
  const start = events.length > 0 ? Date.parse(events[0].created_at) / 1000 : Date.parse(steps[0].created_at) / 1000;
  const xs = [start];
  const ys = [0];
  let total = 0;
  for (const step of steps) {
    total += step.detail.range.end - step.detail.range.start + 1;
    xs.push(Date.parse(step.created_at) / 1000);
    ys.push(total);
  }
  chart = new uPlot({
    width: Math.max(320, box.clientWidth - 32),
    height: 220,
    series: [{}, { label: "blocks", stroke: "#2563eb", fill: "rgba(37,99,235,0.12)", width: 2, points: { show: true } }],
    axes: [{}, { label: "blocks" }],
    scales: { x: { time: true } },
  }, [xs, ys], box);
}

async function locationsScreen() {
  const { locations } = await api("/locations?limit=1000");
  return [h("h1", {}, "Locations"),
    locations.length === 0 ? h("p", { class: "muted" }, "No locations yet: a deploy creates them.") :
    h("table", {}, h("tr", {}, h("th", {}, "id"), h("th", {}, "dataset"), h("th", {}, "table"), h("th", {}, "active"), h("th", {}, "writer"), h("th", {}, "url")),
      locations.map((l) => h("tr", {}, h("td", {}, h("a", { href: `#/locations/${l.id}` }, `#${l.id}`)), h("td", {}, `${l.dataset_namespace}/${l.dataset_name}`), h("td", {}, l.table), h("td", {}, l.active ? "yes" : "no"), h("td", {}, l.writer ? h("a", { href: `#/jobs/${l.writer}` }, `job ${l.writer}`) : "–"), h("td", { class: "mono" }, l.url))))];
}

async function locationScreen(id) {
  const [loc, { files }] = await Promise.all([api(`/locations/${id}`), api(`/locations/${id}/files?limit=1000`)]);
  const total = files.reduce((sum, f) => sum + (f.object_size || 0), 0);
  // In block order, as the table's chain reads.
  files.sort((a, b) => ((fileRange(a.file_name) || { start: 0 }).start - (fileRange(b.file_name) || { start: 0 }).start) || a.id - b.id);
  return [h("h1", {}, `Location #${loc.id}: ${loc.dataset_namespace}/${loc.dataset_name} ${loc.table}`),
    h("p", { class: "mono" }, loc.url),
    h("p", {}, `${files.length} files, ${fmt.bytes(total)}`),
    h("table", { "data-testid": "files" }, h("tr", {}, h("th", {}, "file"), h("th", { class: "num" }, "first block"), h("th", { class: "num" }, "last block"), h("th", { class: "num" }, "size")),
      files.map((f) => {
        const range = fileRange(f.file_name);
        return h("tr", {}, h("td", { class: "mono" }, f.file_name), h("td", { class: "num" }, range ? fmt.block(range.start) : "–"), h("td", { class: "num" }, range ? fmt.block(range.end) : "–"), h("td", { class: "num" }, fmt.bytes(f.object_size)));
      }))];
}

async function schedulesScreen() {
  const { schedules } = await api("/schedules");
  return [h("h1", {}, "Schedules"),
    schedules.length === 0 ? h("p", { class: "muted" }, "No schedules: PUT /datasets/{namespace}/{name}/versions/{revision}/schedule sets one.") :
    h("table", {}, h("tr", {}, h("th", {}, "dataset"), h("th", {}, "cron"), h("th", {}, "end block"), h("th", {}, "enabled"), h("th", {}, "next run"), h("th", {}, "last run")),
      schedules.map((s) => h("tr", {}, h("td", {}, h("a", { href: `#/datasets/${s.namespace}/${s.name}?revision=${s.revision}` }, `${s.namespace}/${s.name}@${s.revision}`)), h("td", {}, h("code", {}, s.cron), ` ${s.timezone}`), h("td", {}, JSON.stringify(s.end_block)), h("td", {}, s.enabled ? "yes" : "no"), h("td", {}, fmt.time(s.next_run_at)),
        h("td", {}, s.last_run ? [`${s.last_run.outcome || "running"} `, s.last_run.job_id ? h("a", { href: `#/jobs/${s.last_run.job_id}` }, `job ${s.last_run.job_id}`) : ""] : "never"))))];
}

function loginScreen(message) {
  const input = h("input", { id: "token", type: "password", name: "token", autocomplete: "off", placeholder: "AMP_ADMIN_TOKEN or AMP_READ_TOKEN", size: 40 });
  const form = h("form", { class: "card login", id: "login-form" },
    h("h1", {}, "Sign in"),
    h("p", { class: "muted" }, "This API needs a bearer token. It is kept for this browser session only."),
    h("label", {}, "token", input),
    message ? h("p", { class: "error" }, message) : null,
    h("p", {}, h("button", { type: "submit" }, "Sign in")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    session.token = input.value.trim();
    sessionStorage.setItem(TOKEN_KEY, session.token);
    start();
  });
  return [form];
}

// ---- routing -------------------------------------------------------------------------------

const routes = [
  [/^#\/datasets\/([^/?]+)\/([^/?]+)/, (m) => datasetScreen(m[1], m[2]), "datasets"],
  [/^#\/datasets/, () => datasetsScreen(), "datasets"],
  [/^#\/jobs\/(\d+)/, (m) => jobScreen(m[1]), "jobs"],
  [/^#\/jobs/, () => jobsScreen(), "jobs"],
  [/^#\/locations\/(\d+)/, (m) => locationScreen(m[1]), "locations"],
  [/^#\/locations/, () => locationsScreen(), "locations"],
  [/^#\/schedules/, () => schedulesScreen(), "schedules"],
];

async function refresh() {
  const hash = location.hash || "#/datasets";
  const [pattern, screen, nav] = routes.find(([p]) => p.test(hash)) || routes[1];
  try {
    const content = await screen(hash.match(pattern));
    if ((location.hash || "#/datasets") !== hash) return;
    view.replaceChildren(...content.flat().filter(Boolean));
    view.dataset.screen = nav;
    for (const link of document.querySelectorAll("[data-nav]")) link.classList.toggle("active", link.dataset.nav === nav);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return signOut("That token was refused.");
    view.replaceChildren(h("p", { class: "error" }, `${error.code || error.status || ""} ${error.message}`));
  }
}

function schedule() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(async () => { await refresh(); schedule(); }, REFRESH_MS);
}

function signOut(message) {
  clearTimeout(refreshTimer);
  sessionStorage.removeItem(TOKEN_KEY);
  session.token = null;
  document.getElementById("session").replaceChildren();
  view.dataset.screen = "login";
  view.replaceChildren(...loginScreen(message));
}

/**
 * Whether the token may write, without an endpoint of its own: a stop of job 0 is refused by auth
 * (403) for the read token, and as an invalid id (400) for the admin token, before anything is done.
 */
async function writeScope() {
  try {
    await api("/jobs/0/stop", { method: "PUT" });
    return true;
  } catch (error) {
    return !(error instanceof ApiError && error.status === 403);
  }
}

async function start() {
  try {
    await api("/datasets");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return signOut(session.token ? "That token was refused." : null);
    view.replaceChildren(h("p", { class: "error" }, `${error.code || ""} ${error.message}`));
    return;
  }
  session.canWrite = await writeScope();
  const who = session.token ? (session.canWrite ? "admin token" : "read-only token") : "auth off";
  document.getElementById("session").replaceChildren(who, session.token ? h("button", { class: "plain", id: "sign-out", onclick: () => signOut(null) }, "Sign out") : "");
  await refresh();
  schedule();
}

window.addEventListener("hashchange", async () => { await refresh(); schedule(); });
start();
