/*
 * The staff pages' one way of calling the server (agent console, content studio,
 * unanswered inbox, analytics): window.StaffApi.
 *
 *   StaffApi.setCsrf(token)                      the session's CSRF token (from /agent/api/me)
 *   StaffApi.request(method, path, {body, raw})  → {status, ok, data}
 *
 * Every request is same-origin, uncached and asks for JSON; a change (not GET) carries
 * X-CSRF-Token. `body` is sent as JSON, `raw` (an ArrayBuffer / Blob: a file) as
 * application/octet-stream. `data` is the parsed JSON answer, or null when there is none.
 * A 401 sends the browser to the log-in page and rejects with StaffApi.LoginRequired;
 * a 403 for a stale CSRF token re-reads the token and retries once; a 403 for a missing
 * role calls the page's onForbidden (then answers as usual).
 *
 * StaffApi.configure({onLogin, refreshCsrf, onForbidden}) lets a page replace the
 * defaults: onLogin() instead of going to /agent/login, refreshCsrf() (must call
 * setCsrf) instead of re-reading /agent/api/me, onForbidden(data) (default: nothing).
 * Pages load this file before their own script (strict CSP: no inline script).
 */
(() => {
  "use strict";

  const LOGIN_URL = "/agent/login";
  const ME_URL = "/agent/api/me";

  class LoginRequired extends Error {}

  const config = { csrf: "", onLogin: null, refreshCsrf: null, onForbidden: null };

  function configure(options) {
    for (const key of ["onLogin", "refreshCsrf", "onForbidden"]) {
      if (options && typeof options[key] === "function") config[key] = options[key];
    }
  }

  function setCsrf(token) {
    config.csrf = token || "";
  }

  function goLogin() {
    if (config.onLogin) config.onLogin();
    else window.location.assign(LOGIN_URL);
  }

  async function readJson(res) {
    try {
      const text = await res.text();
      return text ? JSON.parse(text) : null;
    } catch (e) {
      return null; // an empty or non-JSON answer (a proxy's error page)
    }
  }

  async function refreshCsrf() {
    if (config.refreshCsrf) return config.refreshCsrf();
    const me = await request("GET", ME_URL, {}, true);
    if (me.ok && me.data) setCsrf(me.data.csrf_token);
    return me;
  }

  async function request(method, path, options, retried) {
    const { body, raw } = options || {};
    const headers = { Accept: "application/json" };
    const opts = { method, credentials: "same-origin", headers, cache: "no-store" };
    if (method !== "GET") headers["X-CSRF-Token"] = config.csrf;
    if (raw !== undefined) {
      headers["Content-Type"] = "application/octet-stream";
      opts.body = raw;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(path, opts);
    const data = await readJson(res);
    if (res.status === 401) {
      goLogin();
      throw new LoginRequired("login_required");
    }
    if (res.status === 403 && data && data.error === "csrf" && method !== "GET" && !retried) {
      await refreshCsrf();
      return request(method, path, options, true);
    }
    if (res.status === 403 && data && data.error === "forbidden" && config.onForbidden) {
      config.onForbidden(data);
    }
    return { status: res.status, ok: res.ok, data };
  }

  window.StaffApi = Object.freeze({ LOGIN_URL, LoginRequired, configure, setCsrf, request });
})();
