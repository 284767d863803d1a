/*
 * Agent console (docs/live-chat.md): start-up and wiring. Loads the agent
 * (/agent/api/me), the queue and the ticket in the URL, opens the event
 * stream, re-reads what changed (debounced), and binds the header's buttons.
 * The parts it wires: core.js, api.js, queue.js, ticket.js (loaded before
 * this file by index.html).
 */
(() => {
  "use strict";

  const C = window.CCConsole;
  const { API, state, $, idFromHash, showError, announce } = C;

  const REFRESH_DEBOUNCE_MS = 100;

  // ---------------------------------------------------------------------- me

  async function loadMe() {
    const res = await C.api("GET", `${API}/me`);
    if (!res.ok || !res.data) throw new Error(`me: ${res.status}`);
    const first = !state.me || state.me.username !== res.data.username;
    state.me = res.data;
    window.StaffApi.setCsrf(res.data.csrf_token);
    if (first) C.loadSeen();
    renderMe();
    // Editors and supervisors also edit the content (the server checks the role).
    document.getElementById("content-link").hidden = !["editor", "supervisor"].includes(res.data.role);
    document.getElementById("inbox-link").hidden = !["editor", "supervisor"].includes(res.data.role);
    return res.data;
  }

  function renderMe() {
    const me = state.me;
    $("me-name").textContent = me.display_name || me.username || "";
    const available = me.status === "available";
    const toggle = $("status-toggle");
    toggle.disabled = false;
    toggle.setAttribute("data-status", available ? "available" : "away");
    toggle.setAttribute("aria-pressed", available ? "true" : "false");
    toggle.title = available ? "クリックで「離席中」にします" : "クリックで「対応可能」にします";
    $("status-label").textContent = available ? "対応可能" : "離席中";
  }

  async function toggleStatus() {
    const toggle = $("status-toggle");
    const next = state.me.status === "available" ? "away" : "available";
    toggle.disabled = true;
    try {
      const res = await C.api("POST", `${API}/status`, { status: next });
      if (res.ok) {
        state.me.status = (res.data && res.data.status) || next;
        showError("");
        announce(state.me.status === "available" ? "対応可能にしました" : "離席中にしました");
      } else {
        C.apiError(res, "状態を変更");
      }
    } catch (err) {
      C.networkError(err, "状態を変更");
    }
    renderMe();
  }

  async function logout() {
    $("logout").disabled = true;
    try {
      await C.api("POST", "/agent/logout");
    } catch (err) {
      /* leave anyway: the login page shows whether the session is gone */
    }
    C.goLogin();
  }

  // ------------------------------------------------------------------ refresh

  function refreshSoon() {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(refresh, REFRESH_DEBOUNCE_MS);
  }

  async function refresh() {
    if (state.refreshing) {
      state.refreshAgain = true;
      return;
    }
    state.refreshing = true;
    try {
      await Promise.all([C.loadQueue(), state.selected ? C.loadDetail() : Promise.resolve()]);
    } catch (err) {
      if (!(err instanceof C.LoginRequired)) console.warn("[agent console] refresh failed", err);
    } finally {
      state.refreshing = false;
      if (state.refreshAgain) {
        state.refreshAgain = false;
        refreshSoon();
      }
    }
  }

  // -------------------------------------------------------------------- init

  function bind() {
    $("status-toggle").addEventListener("click", toggleStatus);
    $("logout").addEventListener("click", logout);
    $("claim").addEventListener("click", C.claim);
    $("handback").addEventListener("click", C.handback);
    $("close").addEventListener("click", C.closeTicket);
    $("error-close").addEventListener("click", () => showError(""));
    C.bindComposer();
    window.addEventListener("hashchange", () => {
      const id = idFromHash();
      if (id && id !== state.selected) C.select(id);
    });
    window.addEventListener("focus", C.stopFlash);
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && document.hasFocus()) C.stopFlash();
    });
    setInterval(C.tick, 1000);
  }

  async function init() {
    bind();
    C.setConn("connecting");
    try {
      await loadMe();
    } catch (err) {
      if (!(err instanceof C.LoginRequired)) showError("担当者情報を読み込めませんでした。ページを再読み込みしてください。");
      return;
    }
    try {
      await C.loadQueue();
    } catch (err) {
      C.networkError(err, "一覧を読み込み");
    }
    if (state.selected) C.select(state.selected);
    C.connectEvents();
    document.body.setAttribute("data-ready", "true");
  }

  Object.assign(C, { loadMe, refreshSoon });

  init();
})();
