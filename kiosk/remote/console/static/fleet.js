"use strict";
// The fleet page: one row per kiosk, rendered here from the page's data and kept up to date
// from /events/fleet; filtered by site and alert in the browser (the filter is in the URL).

const tbody = document.querySelector("#fleet tbody");
const siteSelect = document.getElementById("site");
const alertSelect = document.getElementById("alert");
const summary = document.getElementById("summary");
const entries = new Map(); // kiosk -> {row, tr}
const sites = new Set();
let lastKiosk = ""; // the greatest id in the table

function matches(row) {
  const site = siteSelect.value, alert = alertSelect.value;
  if (site && row.site !== site) return false;
  if (alert === "any") return row.kinds.length > 0;
  return !alert || row.kinds.includes(alert);
}

function newRow(kiosk) {
  const tr = document.createElement("tr");
  const link = el("a", kiosk);
  link.href = "/kiosk/" + encodeURIComponent(kiosk);
  const first = el("td");
  first.appendChild(link);
  tr.appendChild(first);
  for (let i = 0; i < 6; i++) tr.appendChild(el("td"));
  // Keep the table sorted by kiosk id as kiosks appear (they come sorted: append).
  let before = null;
  if (kiosk < lastKiosk) {
    for (const [name, entry] of entries) {
      if (name > kiosk && (!before || name < before.dataset.kiosk)) before = entry.tr;
    }
  } else {
    lastKiosk = kiosk;
  }
  tr.dataset.kiosk = kiosk;
  tbody.insertBefore(tr, before);
  return tr;
}

function render(row) {
  let entry = entries.get(row.kiosk);
  if (!entry) {
    entry = { tr: newRow(row.kiosk) };
    entries.set(row.kiosk, entry);
  }
  entry.row = row;
  const cells = entry.tr.children;
  cells[1].textContent = row.state;
  cells[1].className = "state " + row.state;
  cells[2].textContent = row.site || "-";
  cells[3].textContent = serviceText(row.in_service);
  cells[3].className = row.in_service === false ? "out" : "";
  cells[4].textContent = row.screen || "-";
  cells[5].textContent = row.alerts.join("; ") || "-";
  cells[6].textContent = seenText(row.last_seen);
  entry.tr.dataset.site = row.site;
  entry.tr.dataset.kinds = row.kinds.join(" ");
  entry.tr.classList.toggle("alerting", row.kinds.length > 0);
  entry.tr.hidden = !matches(row);
  if (row.site && !sites.has(row.site)) addSite(row.site);
}

function addSite(site) {
  sites.add(site);
  const option = el("option", site);
  option.value = site;
  const after = [...siteSelect.options].slice(1).find((o) => o.value > site) || null;
  siteSelect.insertBefore(option, after);
}

function showSummary() {
  let online = 0, alerting = 0, shown = 0;
  for (const { row } of entries.values()) {
    if (row.state === "online") online++;
    if (row.kinds.length) alerting++;
    if (matches(row)) shown++;
  }
  summary.textContent = `${entries.size} kiosks · ${online} online · ${alerting} with alerts · ${shown} shown`;
}

function applyFilter() {
  for (const { row, tr } of entries.values()) tr.hidden = !matches(row);
  const params = new URLSearchParams();
  if (siteSelect.value) params.set("site", siteSelect.value);
  if (alertSelect.value) params.set("alert", alertSelect.value);
  const query = params.toString();
  history.replaceState(null, "", query ? "?" + query : location.pathname);
  showSummary();
}

function renderAll(rows) {
  for (const row of rows) render(row);
  showSummary();
}

const params = new URLSearchParams(location.search);
const initial = pageData("fleet-data");
for (const row of initial) if (row.site) sites.add(row.site);
for (const site of [...sites].sort()) {
  const option = el("option", site);
  option.value = site;
  siteSelect.appendChild(option);
}
siteSelect.value = params.get("site") || "";
alertSelect.value = params.get("alert") || "";
renderAll(initial);
performance.mark("fleet-rendered"); // every row in the DOM (tests/benchmarks times it)
requestAnimationFrame(() => setTimeout(() => performance.mark("fleet-painted"))); // next frame

siteSelect.addEventListener("change", applyFilter);
alertSelect.addEventListener("change", applyFilter);
setInterval(() => {
  for (const { row, tr } of entries.values()) tr.children[6].textContent = seenText(row.last_seen);
}, 5000);

live("/events/fleet", { rows: renderAll }, async () => {
  const response = await fetch("/api/fleet");
  if (response.ok) {
    const data = await response.json();
    showBroker(data.broker.connected);
    renderAll(data.rows);
  }
});
