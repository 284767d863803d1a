/*
 * Agent console (docs/live-chat.md), shared part: the namespace
 * window.CCConsole that the console's scripts share, the console state, and
 * small DOM and formatting helpers. index.html loads, in this order and with
 * `defer`: staff-api.js, core.js, api.js, queue.js, ticket.js, console.js.
 *
 * Every string from customers, agents or tickets goes into the page with
 * textContent / createTextNode: no console script assigns innerHTML.
 */
(() => {
  "use strict";

  const API = "/agent/api";
  const MAX_MESSAGE = 2000;

  const REASONS = { explicit: "お客様の依頼", fallback: "回答できず", feedback: "低評価" };
  const CHANNELS = { socketio: "Webチャット", rest: "REST API", line: "LINE", unknown: "不明" };

  // ------------------------------------------------------------------ state

  const state = {
    me: null, // {username, display_name, status, csrf_token}; the token lives in StaffApi
    queue: { waiting: [], mine: [], others: [], agents_available: 0 },
    queueLoaded: false,
    selected: idFromHash(),
    detail: null,
    renderedTicket: null, // the ticket whose messages are in the list
    renderedMessageIds: new Set(),
    drafts: new Map(), // ticket id → unsent text
    seen: {}, // ticket id → message_count when last viewed
    waitingIds: null, // ids in the waiting list at the last refresh
    sending: false,
    busy: false, // claim / handback / close in flight
    composing: false,
    leaving: false,
    events: null,
    eventsRetry: 0,
    refreshTimer: null,
    refreshing: false,
    refreshAgain: false,
    pollTimer: null,
    flash: { count: 0, timer: null, on: false },
  };

  // -------------------------------------------------------------- helpers

  const $ = (id) => document.getElementById(id);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = String(text);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function idFromHash() {
    const raw = window.location.hash.replace(/^#/, "");
    if (!raw) return null;
    try {
      return decodeURIComponent(raw);
    } catch (e) {
      return null;
    }
  }

  function setHash(id) {
    const url = window.location.pathname + window.location.search + (id ? "#" + encodeURIComponent(id) : "");
    window.history.replaceState(null, "", url);
  }

  function parseTime(value) {
    if (value == null || value === "") return NaN;
    if (typeof value === "number") return value < 1e12 ? value * 1000 : value; // epoch s or ms
    if (/^\d+(\.\d+)?$/.test(String(value))) return parseTime(Number(value));
    return Date.parse(String(value));
  }

  function hhmm(value) {
    const t = parseTime(value);
    if (isNaN(t)) return "";
    const d = new Date(t);
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }

  function reasonLabel(reason) {
    return REASONS[reason] || reason || "—";
  }

  function channelLabel(channel) {
    return CHANNELS[channel] || channel || "—";
  }

  function isMine(ticket) {
    return !!(ticket && state.me && ticket.owner_username && ticket.owner_username === state.me.username);
  }

  function findInQueue(id) {
    for (const list of ["waiting", "mine", "others"]) {
      const t = (state.queue[list] || []).find((x) => x.id === id);
      if (t) return t;
    }
    return null;
  }

  // ------------------------------------------------------------------ errors

  function showError(text) {
    $("console-error").textContent = text;
    $("error-bar").hidden = !text;
  }

  function announce(text) {
    const node = $("announce");
    node.textContent = "";
    // a new text node in a fresh task so screen readers announce it again
    setTimeout(() => {
      node.textContent = text;
    }, 50);
  }

  window.CCConsole = {
    API,
    MAX_MESSAGE,
    state,
    $,
    el,
    clear,
    idFromHash,
    setHash,
    parseTime,
    hhmm,
    reasonLabel,
    channelLabel,
    isMine,
    findInQueue,
    showError,
    announce,
  };
})();
