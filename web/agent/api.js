/*
 * Agent console: talking to the server. api() is fetch with the CSRF token,
 * a 401 sends the browser to the login page and a 403 for a stale token
 * re-reads it and retries once; the Server-Sent Events stream
 * /agent/api/events with a growing back-off, and polling while it is down.
 */
(() => {
  "use strict";

  const C = window.CCConsole;
  const { API, MAX_MESSAGE, state, $, showError } = C;

  const LOGIN_URL = "/agent/login";
  const FALLBACK_POLL_MS = 15000; // while the event stream is down

  // ----------------------------------------------------------------- requests

  class LoginRequired extends Error {}

  function goLogin() {
    if (state.leaving) return;
    state.leaving = true;
    if (state.events) state.events.close();
    window.location.assign(LOGIN_URL);
  }

  // → {status, ok, data}. 401 sends the browser to the login page; a 403 for
  // a stale CSRF token re-reads the token from /me and retries once.
  async function api(method, path, body, retried) {
    const headers = { Accept: "application/json" };
    const opts = { method, credentials: "same-origin", headers, cache: "no-store" };
    if (method !== "GET") headers["X-CSRF-Token"] = state.csrf || "";
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(path, opts);
    let data = null;
    try {
      const text = await res.text();
      data = text ? JSON.parse(text) : null;
    } catch (e) {
      data = null;
    }
    if (res.status === 401) {
      goLogin();
      throw new LoginRequired("login_required");
    }
    if (res.status === 403 && data && data.error === "csrf" && !retried && method !== "GET") {
      await C.loadMe();
      return api(method, path, body, true);
    }
    return { status: res.status, ok: res.ok, data };
  }

  function networkError(err, what) {
    if (err instanceof LoginRequired) return;
    showError(`${what}できませんでした。ネットワークの状態を確認してください。`);
  }

  function apiError(res, what) {
    const code = res.data && res.data.error;
    const messages = {
      not_owner: "このチケットの担当ではありません。",
      closed: "このチケットはすでに終了しています。",
      empty: "メッセージが空です。",
      too_long: `メッセージは${MAX_MESSAGE.toLocaleString()}文字以内にしてください。`,
      csrf: "セッションの確認に失敗しました。ページを再読み込みしてください。",
      not_found: "チケットが見つかりません。",
    };
    showError(messages[code] || `${what}できませんでした(エラー ${res.status}${code ? ": " + code : ""})。`);
  }

  // ------------------------------------------------------------- live updates

  function setConn(key) {
    const node = $("conn");
    const text = { connecting: "接続しています…", open: "接続中", retry: "再接続中…" };
    node.textContent = text[key];
    node.setAttribute("data-state", key);
    node.title = key === "open" ? "リアルタイム更新: 接続中" : "リアルタイム更新: 再接続しています";
  }

  function connectEvents() {
    if (state.leaving) return;
    if (state.events) state.events.close();
    const es = new EventSource(`${API}/events`);
    state.events = es;
    es.addEventListener("open", () => {
      state.eventsRetry = 0;
      setConn("open");
      stopPolling();
      C.refreshSoon(); // changes made while we were away
    });
    es.addEventListener("changed", () => C.refreshSoon());
    es.addEventListener("error", () => {
      if (state.leaving) return;
      setConn("retry");
      startPolling();
      if (es.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. a 401 instead of a stream): check the
        // session, then open a new stream with a growing delay.
        state.eventsRetry += 1;
        const delay = Math.min(30000, 1000 * 2 ** Math.min(state.eventsRetry, 5));
        setTimeout(async () => {
          try {
            await C.loadMe();
          } catch (err) {
            /* a 401 went to the login page; else try again below */
          }
          if (state.events === es) connectEvents();
        }, delay);
      }
    });
  }

  function startPolling() {
    if (state.pollTimer) return;
    state.pollTimer = setInterval(C.refreshSoon, FALLBACK_POLL_MS);
  }

  function stopPolling() {
    clearInterval(state.pollTimer);
    state.pollTimer = null;
  }

  Object.assign(C, { LoginRequired, goLogin, api, networkError, apiError, setConn, connectEvents });
})();
