"use strict";
// The kiosk page: its status, telemetry, events, replies, screenshot and log tail, kept up
// to date from /events/kiosk/<id>; command buttons (operators only) post to the console.

const KIOSK = document.getElementById("kiosk-name").textContent;
const base = "/kiosk/" + encodeURIComponent(KIOSK);

function text(id, value) {
  document.getElementById(id).textContent = value;
}

function renderRow(row) {
  text("state", row.state);
  document.getElementById("state").className = "state " + row.state;
  text("service", serviceText(row.in_service));
  document.getElementById("service").className = row.in_service === false ? "out" : "";
  text("site", row.site || "-");
  text("screen", row.screen || "-");
  text("version", row.version || "-");
  text("last-seen", seenText(row.last_seen));
  text("alerts", row.alerts.join("; ") || "none");
  document.getElementById("last-seen").dataset.iso = row.last_seen || "";
}

function fact(list, name, value) {
  list.appendChild(el("dt", name));
  list.appendChild(el("dd", value));
}

function renderTelemetry(t) {
  const list = document.getElementById("telemetry");
  const devices = document.getElementById("devices");
  list.replaceChildren();
  devices.replaceChildren();
  if (!t) {
    fact(list, "Telemetry", "none received yet");
    return;
  }
  const j = t.journeys_today;
  const refused = Object.entries(j.refused).map(([k, n]) => `${k} ${n}`).join(", ") || "0";
  fact(list, "Received", seenText(t.ts));
  fact(list, "Journeys today", `completed ${j.completed}, refused ${refused}, failed ${j.failed}, abandoned ${j.abandoned}`);
  fact(list, "Outbox", `${t.outbox.queued} queued, ${t.outbox.dead} dead`);
  fact(list, "Back-end", t.backend_reachable === null ? "-" : t.backend_reachable ? "reachable" : "UNREACHABLE");
  fact(list, "Uptime", `${Math.round(t.uptime_s / 60)} min`);
  for (const d of t.devices) {
    const tr = el("tr", null, "level-" + d.level);
    tr.appendChild(el("td", d.device));
    tr.appendChild(el("td", d.level));
    tr.appendChild(el("td", d.detail || "-"));
    tr.appendChild(el("td", Object.entries(d.metrics).map(([k, v]) => `${k}=${v}`).join(" ") || "-"));
    devices.appendChild(tr);
  }
}

function eventItem(e) {
  const detail = Object.entries(e.detail).map(([k, v]) => `${k}=${v}`).join(" ");
  return el("li", `${e.ts.slice(11, 19)} ${e.event} ${detail}`);
}

function addEvent(e) {
  const list = document.getElementById("events");
  list.insertBefore(eventItem(e), list.firstChild);
  while (list.children.length > 50) list.lastChild.remove();
}

function replyItem(r) {
  const li = el("li", null, "reply " + r.status);
  li.dataset.requestId = r.request_id;
  li.dataset.status = r.status;
  li.appendChild(el("span", `${r.ts.slice(11, 19)} ${r.command} `, "what"));
  li.appendChild(el("strong", r.status.replace("_", " "), "status"));
  li.appendChild(el("span", ` by ${r.user}`, "who"));
  if (r.authentic === false) li.appendChild(el("span", " (reply NOT signed by the kiosk)", "warn"));
  const detail = r.error || (r.result && Object.keys(r.result).length ? JSON.stringify(r.result) : "");
  if (detail) li.appendChild(el("div", detail, "detail"));
  return li;
}

function showReply(r) {
  const list = document.getElementById("replies");
  const item = replyItem(r);
  const old = list.querySelector(`li[data-request-id="${r.request_id}"]`);
  if (old) old.replaceWith(item);
  else list.insertBefore(item, list.firstChild);
  if (r.command === "screenshot" && r.status === "ok" && r.authentic) showScreenshot(r.request_id);
}

function showScreenshot(version) {
  const img = document.getElementById("screenshot");
  img.src = `${base}/screenshot.png?v=${encodeURIComponent(version)}`;
  img.hidden = false;
  document.getElementById("no-screenshot").hidden = true;
}

function showLog(lines) {
  text("log-tail", lines.length ? lines.join("\n") : "(none fetched yet)");
}

function renderAll(d) {
  renderRow(d.row);
  renderTelemetry(d.telemetry);
  document.getElementById("events").replaceChildren(...d.events.map(eventItem));
  document.getElementById("replies").replaceChildren(...d.replies.map(replyItem));
  if (d.has_screenshot) showScreenshot(Date.now());
  showLog(d.log_tail);
  showBroker(d.broker.connected);
}

async function send(command, args) {
  const error = document.getElementById("command-error");
  error.hidden = true;
  const response = await fetch(`${base}/command`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
    body: JSON.stringify({ command, args }),
  });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    error.textContent = `${command}: ${body.error ? JSON.stringify(body.error) : response.status}`;
    error.hidden = false;
  }
}

// Destructive commands are confirmed in a dialog first.
const dialog = document.getElementById("confirm");
let confirmed = null;
document.getElementById("confirm-yes").addEventListener("click", () => {
  dialog.close();
  if (confirmed) confirmed();
  confirmed = null;
});
document.getElementById("confirm-no").addEventListener("click", () => {
  dialog.close();
  confirmed = null;
});

function ask(label, action) {
  text("confirm-text", `${label} on ${KIOSK}?`);
  confirmed = action;
  dialog.showModal();
}

for (const button of document.querySelectorAll("button.command")) {
  button.addEventListener("click", () => {
    const args = JSON.parse(button.dataset.args);
    const action = () => send(button.dataset.command, args);
    if (button.dataset.confirm) ask(button.dataset.confirm, action);
    else action();
  });
}

document.getElementById("set-config")?.addEventListener("submit", (e) => {
  e.preventDefault();
  const key = document.getElementById("config-key").value.trim();
  const raw = document.getElementById("config-value").value;
  let value;
  try { value = JSON.parse(raw); } catch { value = raw; } // 45, true, "x" as JSON; else text
  ask(`Set ${key} = ${JSON.stringify(value)}`, () => send("set_config", { key, value }));
});

renderAll(pageData("kiosk-data"));
setInterval(() => text("last-seen", seenText(document.getElementById("last-seen").dataset.iso)), 5000);

live(`/events/kiosk/${encodeURIComponent(KIOSK)}`, {
  row: renderRow,
  telemetry: renderTelemetry,
  event: addEvent,
  reply: showReply,
  log_tail: showLog,
}, async () => {
  const response = await fetch(`/api/kiosk/${encodeURIComponent(KIOSK)}`);
  if (response.ok) renderAll(await response.json());
});
