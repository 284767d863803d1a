/*
 * Agent console: talking to the server. api() is the staff pages' shared request
 * helper (staff-api.js: CSRF token, JSON, a 401 goes to the login page, a 403 for
 * a stale token re-reads it and retries once); the Server-Sent Events stream
 * /agent/api/events with a growing back-off, and polling while it is down.
 */
(() => {
  "use strict";

  const C = window.CCConsole;
  const { API, MAX_MESSAGE, state, $, showError } = C;

  const FALLBACK_POLL_MS = 15000; // while the event stream is down

  // ----------------------------------------------------------------- requests

  // Requests go through the staff pages' shared helper (staff-api.js, loaded first):
  // the console only says how to leave for the log-in page (closing the event stream)
  // and re-reads the CSRF token through loadMe (which also refreshes the header).
  const { LOGIN_URL, LoginRequired } = window.StaffApi;

  function goLogin() {
    if (state.leaving) return;
    state.leaving = true;
    if (state.events) state.events.close();
    window.location.assign(LOGIN_URL);
  }

  window.StaffApi.configure({ onLogin: goLogin, refreshCsrf: () => C.loadMe() });

  // → {status, ok, data}; see staff-api.js.
  function api(method, path, body) {
    return window.StaffApi.request(method, path, { body });
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
