"use strict";
// Shared by the console's pages: page data, times, the live stream, the broker indicator.

const CSRF = document.querySelector('meta[name="csrf-token"]')?.content || "";

function pageData(id) {
  return JSON.parse(document.getElementById(id).textContent);
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (className) node.className = className;
  return node;
}

// "17:02:03 (5 s ago)": UTC wall time, and how long ago in the browser's clock.
function seenText(iso) {
  if (!iso) return "-";
  const then = new Date(iso);
  const secs = Math.max(0, Math.round((Date.now() - then.getTime()) / 1000));
  const ago = secs < 120 ? `${secs} s` : secs < 7200 ? `${Math.round(secs / 60)} min` : `${Math.round(secs / 3600)} h`;
  return `${then.toISOString().slice(11, 19)} (${ago} ago)`;
}

function serviceText(inService) {
  return inService === true ? "in service" : inService === false ? "OUT OF SERVICE" : "-";
}

function showBroker(connected) {
  const node = document.getElementById("broker");
  if (!node) return;
  node.textContent = connected ? "broker connected" : "broker not connected";
  node.className = "broker " + (connected ? "up" : "down");
}

// A live stream: handlers by event name; after the connection was lost and came back,
// or when the server says "resync", `resync()` reloads the page's data.
function live(url, handlers, resync) {
  const source = new EventSource(url);
  let lost = false;
  source.onerror = () => {
    lost = true;
    // Refused (logged out, the session expired): the browser will not try again.
    if (source.readyState === EventSource.CLOSED) window.location = "/login";
  };
  source.onopen = () => { if (lost) { lost = false; resync(); } };
  source.addEventListener("resync", resync);
  source.addEventListener("logout", () => { source.close(); window.location = "/login"; });
  source.addEventListener("broker", (e) => showBroker(JSON.parse(e.data).connected));
  for (const [name, handler] of Object.entries(handlers)) {
    source.addEventListener(name, (e) => handler(JSON.parse(e.data)));
  }
  return source;
}
