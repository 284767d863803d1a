/*
 * Agent console (docs/live-chat.md): the queue of waiting customers, the
 * agent's own and the other agents' conversations, and the chat with the
 * selected customer. Talks to the console API under /agent/api; live updates
 * come from the Server-Sent Events stream /agent/api/events.
 *
 * Every string from customers, agents or tickets goes into the page with
 * textContent / createTextNode: this file never assigns innerHTML.
 */
(() => {
  "use strict";

  const API = "/agent/api";
  const LOGIN_URL = "/agent/login";
  const TITLE = document.title;
  const REFRESH_DEBOUNCE_MS = 100;
  const FALLBACK_POLL_MS = 15000; // while the event stream is down
  const WAIT_WARN_S = 120; // orange
  const WAIT_ALERT_S = 300; // red
  const MAX_MESSAGE = 2000;

  const REASONS = { explicit: "お客様の依頼", fallback: "回答できず", feedback: "低評価" };
  const CHANNELS = { socketio: "Webチャット", rest: "REST API", unknown: "不明" };
  const CLOSE_REASONS = {
    handback: "ボットに戻しました",
    close: "対応を終了しました",
    customer: "お客様がボットに戻りました",
  };
  const ROLE_LABELS = { customer: "お客様", agent: "担当者", system: "システム" };

  // ------------------------------------------------------------------ state

  const state = {
    me: null, // {username, display_name, status, csrf_token}
    csrf: "",
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

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const ss = String(s % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
  }

  function spokenDuration(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return (h ? `${h}時間` : "") + (h || m ? `${m}分` : "") + `${s % 60}秒`;
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

  // --------------------------------------------------------------------- API

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
      await loadMe();
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

  // ---------------------------------------------------------------------- me

  async function loadMe() {
    const res = await api("GET", `${API}/me`);
    if (!res.ok || !res.data) throw new Error(`me: ${res.status}`);
    const first = !state.me || state.me.username !== res.data.username;
    state.me = res.data;
    state.csrf = res.data.csrf_token || "";
    if (first) loadSeen();
    renderMe();
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
      const res = await api("POST", `${API}/status`, { status: next });
      if (res.ok) {
        state.me.status = (res.data && res.data.status) || next;
        showError("");
        announce(state.me.status === "available" ? "対応可能にしました" : "離席中にしました");
      } else {
        apiError(res, "状態を変更");
      }
    } catch (err) {
      networkError(err, "状態を変更");
    }
    renderMe();
  }

  async function logout() {
    $("logout").disabled = true;
    try {
      await api("POST", "/agent/logout");
    } catch (err) {
      /* leave anyway: the login page shows whether the session is gone */
    }
    goLogin();
  }

  // ------------------------------------------------------- seen (unread dots)

  function seenKey() {
    return "ccAgent.seen." + ((state.me && state.me.username) || "");
  }

  function loadSeen() {
    try {
      const raw = JSON.parse(window.localStorage.getItem(seenKey()) || "{}");
      state.seen = raw && typeof raw === "object" ? raw : {};
    } catch (e) {
      state.seen = {};
    }
  }

  function saveSeen() {
    // forget tickets that left the queue
    const keep = {};
    for (const list of ["waiting", "mine", "others"]) {
      for (const t of state.queue[list] || []) if (t.id in state.seen) keep[t.id] = state.seen[t.id];
    }
    if (state.detail && state.detail.id in state.seen) keep[state.detail.id] = state.seen[state.detail.id];
    state.seen = keep;
    try {
      window.localStorage.setItem(seenKey(), JSON.stringify(keep));
    } catch (e) {
      /* private mode: dots just come back after a reload */
    }
  }

  function markSeen(ticket) {
    if (!ticket) return;
    const count = Number(ticket.message_count != null ? ticket.message_count : (ticket.messages || []).length) || 0;
    if (state.seen[ticket.id] === count) return;
    state.seen[ticket.id] = count;
    saveSeen();
  }

  function isUnread(ticket) {
    if (ticket.id === state.selected) return false;
    const count = Number(ticket.message_count) || 0;
    return count > (Number(state.seen[ticket.id]) || 0);
  }

  // ------------------------------------------------------------------- queue

  async function loadQueue() {
    const res = await api("GET", `${API}/queue`);
    if (!res.ok || !res.data) throw new Error(`queue: ${res.status}`);
    const q = res.data;
    const fetchedAt = Date.now();
    for (const list of ["waiting", "mine", "others"]) {
      q[list] = Array.isArray(q[list]) ? q[list] : [];
      // The wait clock starts from the server's wait_seconds (no clock skew,
      // no time zone guessing); created_at when wait_seconds is missing.
      for (const t of q[list]) {
        const ws = Number(t.wait_seconds);
        t._start = Number.isFinite(ws) && t.wait_seconds !== null ? fetchedAt - ws * 1000 : parseTime(t.created_at);
      }
    }
    // Unread dots: a ticket first seen already owned starts from its current
    // count (another agent's chat is not "new" to us); a waiting one from 0,
    // so messages the customer wrote while waiting count as unread.
    let baseline = false;
    for (const t of q.mine.concat(q.others)) {
      if (!(t.id in state.seen)) {
        state.seen[t.id] = Number(t.message_count) || 0;
        baseline = true;
      }
    }
    noticeNewWaiting(q.waiting);
    state.queue = q;
    state.queueLoaded = true;
    if (baseline) saveSeen();
    renderQueue();
  }

  function noticeNewWaiting(waiting) {
    const ids = new Set(waiting.map((t) => t.id));
    if (state.waitingIds) {
      const fresh = waiting.filter((t) => !state.waitingIds.has(t.id));
      if (fresh.length) {
        announce(`新しい対応待ち: ${fresh.map((t) => t.id).join("、")}`);
        flashTitle(fresh.length);
      }
    }
    state.waitingIds = ids;
  }

  function renderQueue() {
    const q = state.queue;
    const focusedTicket =
      document.activeElement && document.activeElement.matches('[data-testid="ticket-item"]')
        ? document.activeElement.getAttribute("data-ticket")
        : null;
    renderList("waiting", q.waiting);
    renderList("mine", q.mine);
    renderList("others", q.others);
    const n = q.agents_available;
    $("agents-available").textContent = Number.isFinite(Number(n)) && n !== null ? `対応可能な担当者: ${n}人` : "";
    if (focusedTicket) {
      const again = document.querySelector(`[data-testid="ticket-item"][data-ticket="${CSS.escape(focusedTicket)}"]`);
      if (again) again.focus();
    }
    tick();
  }

  function renderList(name, tickets) {
    const list = $("queue-" + name);
    clear(list);
    for (const t of tickets) list.appendChild(renderItem(t, name));
    const badge = $("count-" + name);
    badge.textContent = String(tickets.length);
    badge.setAttribute("data-count", String(tickets.length));
    badge.setAttribute("aria-label", `${tickets.length}件`);
    $("empty-" + name).hidden = tickets.length > 0;
  }

  function renderItem(t, listName) {
    const li = el("li", "queue__item");
    const b = el("button", "item");
    b.type = "button";
    b.setAttribute("data-testid", "ticket-item");
    b.setAttribute("data-ticket", t.id);
    b.setAttribute("data-list", listName);
    if (t.id === state.selected) b.setAttribute("aria-current", "true");
    const unread = isUnread(t);
    if (unread) b.setAttribute("data-unread", "true");

    const top = el("span", "item__top");
    top.appendChild(el("span", "item__id", t.id));
    if (unread) {
      const dot = el("span", "item__dot");
      dot.appendChild(el("span", "sr-only", "新着メッセージあり"));
      top.appendChild(dot);
    }
    if (listName === "waiting") {
      const wait = el("span", "item__wait wait");
      wait.setAttribute("data-start", String(t._start));
      top.appendChild(wait);
    } else {
      top.appendChild(el("span", "item__time", hhmm(t.created_at) ? `受付 ${hhmm(t.created_at)}` : ""));
    }
    b.appendChild(top);

    const tags = el("span", "item__tags");
    tags.appendChild(el("span", "tag tag--reason tag--" + (t.reason || "other"), reasonLabel(t.reason)));
    tags.appendChild(el("span", "tag", channelLabel(t.channel)));
    if (t.term) tags.appendChild(el("span", "tag tag--term", t.term));
    if (listName === "waiting" && t.position != null) tags.appendChild(el("span", "item__pos", `${t.position}番目`));
    b.appendChild(tags);

    const text = listName === "waiting" || !t.last_message ? t.last_question : t.last_message;
    b.appendChild(el("span", "item__text", text || "(質問なし)"));
    if (listName === "others" && t.owner) b.appendChild(el("span", "item__owner", `担当: ${t.owner}`));

    b.addEventListener("click", () => select(t.id));
    li.appendChild(b);
    return li;
  }

  // Every second: the wait clocks of the waiting list (orange > 2 min, red > 5 min).
  function tick() {
    const now = Date.now();
    for (const node of document.querySelectorAll(".wait[data-start]")) {
      const start = Number(node.getAttribute("data-start"));
      if (!Number.isFinite(start)) {
        node.textContent = "";
        continue;
      }
      const s = (now - start) / 1000;
      node.textContent = clock(s);
      node.setAttribute("aria-label", `待ち時間 ${spokenDuration(s)}`);
      node.setAttribute("data-level", s > WAIT_ALERT_S ? "alert" : s > WAIT_WARN_S ? "warn" : "ok");
    }
  }

  // ---------------------------------------------------- new ticket: title flash

  function flashTitle(n) {
    const f = state.flash;
    f.count += n;
    if (document.hasFocus() && !document.hidden) {
      // someone is looking: a few blinks are enough
      clearTimeout(f.stopper);
      f.stopper = setTimeout(stopFlash, 6000);
    }
    if (f.timer) return;
    f.timer = setInterval(() => {
      f.on = !f.on;
      document.title = f.on ? `(${f.count}) 新着 | ${TITLE}` : TITLE;
    }, 1000);
    f.on = true;
    document.title = `(${f.count}) 新着 | ${TITLE}`;
  }

  function stopFlash() {
    const f = state.flash;
    clearInterval(f.timer);
    clearTimeout(f.stopper);
    f.timer = null;
    f.count = 0;
    f.on = false;
    document.title = TITLE;
  }

  // ----------------------------------------------------------------- tickets

  function select(id) {
    if (!id) return;
    saveDraft();
    if (state.selected !== id) {
      state.selected = id;
      state.detail = null;
      setHash(id);
      showError("");
    }
    for (const b of document.querySelectorAll('[data-testid="ticket-item"]')) {
      if (b.getAttribute("data-ticket") === id) b.setAttribute("aria-current", "true");
      else b.removeAttribute("aria-current");
    }
    const summary = findInQueue(id);
    if (summary) renderDetail(Object.assign({ transcript: [], messages: [], _partial: true }, summary));
    loadDetail().catch((err) => networkError(err, "チケットを読み込み"));
  }

  async function loadDetail() {
    const id = state.selected;
    if (!id) return renderDetail(null);
    const res = await api("GET", `${API}/tickets/${encodeURIComponent(id)}`);
    if (id !== state.selected) return; // another ticket was chosen meanwhile
    if (res.status === 404) {
      state.selected = null;
      state.detail = null;
      setHash(null);
      renderDetail(null);
      showError(`チケット ${id} が見つかりません。`);
      return;
    }
    if (!res.ok || !res.data) {
      apiError(res, "チケットを読み込み");
      return;
    }
    applyDetail(res.data);
  }

  function applyDetail(detail) {
    if (!detail || detail.id !== state.selected) return;
    state.detail = detail;
    renderDetail(detail);
    markSeen(detail);
    // the list's unread dot for this ticket goes away
    const item = document.querySelector(`[data-testid="ticket-item"][data-ticket="${CSS.escape(detail.id)}"]`);
    if (item) {
      item.removeAttribute("data-unread");
      const dot = item.querySelector(".item__dot");
      if (dot) dot.remove();
    }
  }

  function stateText(t) {
    if (t.status === "closed") {
      const why = CLOSE_REASONS[t.close_reason] || (t.close_reason ? `終了(${t.close_reason})` : "終了");
      return `終了 — ${why}` + (hhmm(t.closed_at) ? `(${hhmm(t.closed_at)})` : "");
    }
    if (!t.owner) return t.position != null ? `対応待ち(${t.position}番目)` : "対応待ち";
    if (isMine(t)) return "あなたが対応中" + (hhmm(t.claimed_at) ? `(${hhmm(t.claimed_at)}から)` : "");
    return `${t.owner} さんが対応中`;
  }

  function renderDetail(t) {
    const ticket = $("ticket");
    $("detail-placeholder").hidden = !!t;
    ticket.hidden = !t;
    if (!t) {
      state.renderedTicket = null;
      state.renderedMessageIds = new Set();
      return;
    }
    const open = t.status !== "closed";
    const mine = open && isMine(t);
    ticket.setAttribute("data-ticket", t.id);
    ticket.setAttribute("data-status", !open ? "closed" : t.owner ? (mine ? "mine" : "others") : "waiting");
    $("detail-title").textContent = t.id;
    $("ticket-state").textContent = stateText(t);

    $("claim").hidden = !(open && !t.owner);
    $("handback").hidden = !mine;
    $("close").hidden = !mine;
    for (const id of ["claim", "handback", "close"]) $(id).disabled = state.busy;

    renderInfo(t);
    if (t._partial) {
      // a summary from the queue while the full ticket loads
      clear($("transcript"));
      $("transcript-empty").hidden = true;
      if (state.renderedTicket !== t.id) {
        clear($("messages"));
        state.renderedTicket = null;
        state.renderedMessageIds = new Set();
        $("messages-empty").hidden = true;
      }
    } else {
      renderTranscript(t.transcript);
      renderMessages(t);
    }

    const composer = $("composer");
    const wasHidden = composer.hidden;
    composer.hidden = !mine;
    if (mine && (wasHidden || composer.getAttribute("data-ticket") !== t.id)) {
      composer.setAttribute("data-ticket", t.id);
      $("message-input").value = state.drafts.get(t.id) || "";
    }
  }

  function renderInfo(t) {
    const dl = $("info");
    clear(dl);
    const row = (label, value) => {
      const wrap = el("div", "info__row");
      wrap.appendChild(el("dt", "info__key", label));
      const dd = el("dd", "info__value");
      if (value instanceof Node) dd.appendChild(value);
      else dd.textContent = value == null || value === "" ? "—" : String(value);
      wrap.appendChild(dd);
      dl.appendChild(wrap);
    };
    row("最後の質問", t.last_question);
    row("用語", t.term);
    const candidates = Array.isArray(t.candidates) ? t.candidates : [];
    if (candidates.length) {
      const chips = el("span", "chips");
      for (const c of candidates) chips.appendChild(el("span", "chip", c));
      row("ボットの候補", chips);
    } else {
      row("ボットの候補", null);
    }
    row("連絡先", t.contact);
    row("理由・チャネル", `${reasonLabel(t.reason)} ・ ${channelLabel(t.channel)}`);
  }

  function renderTranscript(turns) {
    const list = $("transcript");
    clear(list);
    turns = Array.isArray(turns) ? turns : [];
    for (const turn of turns) {
      const role = turn.role === "bot" ? "bot" : "user";
      const li = el("li", "turn turn--" + role);
      li.setAttribute("data-role", role);
      const meta = el("span", "turn__meta", role === "bot" ? "ボット" : "お客様");
      if (hhmm(turn.time)) meta.appendChild(el("time", "turn__time", hhmm(turn.time)));
      li.appendChild(meta);
      li.appendChild(el("p", "turn__text", turn.text));
      list.appendChild(li);
    }
    $("transcript-empty").hidden = turns.length > 0;
  }

  // Messages are appended by id: the list is aria-live, so only new ones are
  // announced, and a refresh does not jump the scroll position.
  function renderMessages(t) {
    const list = $("messages");
    const scroller = $("ticket-scroll");
    const nearBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 60;
    const switched = state.renderedTicket !== t.id;
    if (switched) {
      clear(list);
      state.renderedTicket = t.id;
      state.renderedMessageIds = new Set();
    }
    const messages = Array.isArray(t.messages) ? t.messages : [];
    let added = false;
    for (const m of messages) {
      const key = m.id != null ? String(m.id) : `${m.role}|${m.time}|${m.text}`;
      if (state.renderedMessageIds.has(key)) continue;
      state.renderedMessageIds.add(key);
      list.appendChild(renderMessage(m));
      added = true;
    }
    $("messages-empty").hidden = list.children.length > 0;
    if (switched) scroller.scrollTop = scroller.scrollHeight;
    else if (added && nearBottom) scroller.scrollTop = scroller.scrollHeight;
  }

  function renderMessage(m) {
    const role = m.role === "agent" || m.role === "system" ? m.role : "customer";
    const li = el("li", "msg msg--" + role);
    li.setAttribute("data-testid", "message");
    li.setAttribute("data-role", role);
    if (m.id != null) li.setAttribute("data-id", String(m.id));
    if (role === "system") {
      li.appendChild(el("p", "msg__system", m.text));
      if (hhmm(m.time)) li.appendChild(el("time", "msg__time", hhmm(m.time)));
      return li;
    }
    const meta = el("p", "msg__meta");
    const who = role === "agent" ? m.author || ROLE_LABELS.agent : ROLE_LABELS.customer;
    meta.appendChild(el("span", "msg__author", who));
    if (role === "agent" && state.me && m.author && m.author === state.me.display_name) {
      meta.appendChild(el("span", "msg__you", "(あなた)"));
    }
    if (hhmm(m.time)) meta.appendChild(el("time", "msg__time", hhmm(m.time)));
    li.appendChild(meta);
    li.appendChild(el("p", "msg__text", m.text));
    return li;
  }

  // ----------------------------------------------------------------- actions

  function ticketPath(id, action) {
    return `${API}/tickets/${encodeURIComponent(id)}/${action}`;
  }

  async function runAction(action, what) {
    const id = state.selected;
    if (!id || state.busy) return null;
    state.busy = true;
    for (const b of ["claim", "handback", "close"]) $(b).disabled = true;
    try {
      const res = await api("POST", ticketPath(id, action));
      return res;
    } catch (err) {
      networkError(err, what);
      return null;
    } finally {
      state.busy = false;
      for (const b of ["claim", "handback", "close"]) $(b).disabled = false;
    }
  }

  async function claim() {
    const res = await runAction("claim", "対応を開始");
    if (!res) return;
    if (res.ok) {
      showError("");
      applyDetail(res.data);
      announce(`${state.selected} の対応を開始しました`);
      $("message-input").focus();
    } else if (res.status === 409 && res.data && res.data.error === "already_claimed") {
      showError(`ほかの担当者(${res.data.owner || "不明"})が対応を開始しました。`);
    } else {
      apiError(res, "対応を開始");
    }
    refreshSoon();
  }

  async function handback() {
    if (!window.confirm(`${state.selected} をボットに戻しますか?\nお客様にはボットが再び応答します。`)) return;
    const res = await runAction("handback", "ボットに戻");
    if (!res) return;
    if (res.ok) {
      showError("");
      applyDetail(res.data);
      announce("ボットに戻しました");
    } else {
      apiError(res, "ボットに戻");
    }
    refreshSoon();
  }

  async function closeTicket() {
    if (!window.confirm(`${state.selected} の対応を終了しますか?`)) return;
    const res = await runAction("close", "対応を終了");
    if (!res) return;
    if (res.ok) {
      showError("");
      applyDetail(res.data);
      announce("対応を終了しました");
    } else {
      apiError(res, "対応を終了");
    }
    refreshSoon();
  }

  async function sendMessage() {
    const input = $("message-input");
    const id = state.selected;
    const text = input.value.trim();
    if (!id || state.sending) return;
    if (!text) {
      input.focus();
      return;
    }
    if (text.length > MAX_MESSAGE) {
      showError(`メッセージは${MAX_MESSAGE.toLocaleString()}文字以内にしてください(現在 ${text.length}文字)。`);
      return;
    }
    state.sending = true;
    $("send").disabled = true;
    try {
      const res = await api("POST", ticketPath(id, "messages"), { text });
      if (res.status === 201 || res.ok) {
        showError("");
        if (input.value.trim() === text) input.value = "";
        state.drafts.delete(id);
        if (res.data && state.detail && state.detail.id === id) {
          const msgs = state.detail.messages || (state.detail.messages = []);
          if (!msgs.some((m) => m.id != null && m.id === res.data.id)) msgs.push(res.data);
          state.detail.message_count = msgs.length;
          renderMessages(state.detail);
          markSeen(state.detail);
          const scroller = $("ticket-scroll");
          scroller.scrollTop = scroller.scrollHeight;
        }
      } else {
        apiError(res, "送信"); // the text stays in the box
      }
    } catch (err) {
      networkError(err, "送信");
    } finally {
      state.sending = false;
      $("send").disabled = false;
      input.focus();
    }
  }

  function saveDraft() {
    const composer = $("composer");
    const id = composer.getAttribute("data-ticket");
    if (!id) return;
    const text = $("message-input").value;
    if (text) state.drafts.set(id, text);
    else state.drafts.delete(id);
  }

  // Japanese IME: the Enter that confirms a conversion must not send.
  function bindComposer() {
    const input = $("message-input");
    input.addEventListener("compositionstart", () => {
      state.composing = true;
    });
    input.addEventListener("compositionend", () => {
      state.composing = false;
    });
    input.addEventListener("keydown", (ev) => {
      if (ev.key !== "Enter") return;
      if (ev.isComposing || ev.keyCode === 229 || state.composing) return;
      if (ev.shiftKey) return; // newline
      ev.preventDefault();
      sendMessage();
    });
    $("composer").addEventListener("submit", (ev) => {
      ev.preventDefault();
      sendMessage();
    });
  }

  // ----------------------------------------------------------- live updates

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
      await Promise.all([loadQueue(), state.selected ? loadDetail() : Promise.resolve()]);
    } catch (err) {
      if (!(err instanceof LoginRequired)) console.warn("[agent console] refresh failed", err);
    } finally {
      state.refreshing = false;
      if (state.refreshAgain) {
        state.refreshAgain = false;
        refreshSoon();
      }
    }
  }

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
      refreshSoon(); // changes made while we were away
    });
    es.addEventListener("changed", () => refreshSoon());
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
            await loadMe();
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
    state.pollTimer = setInterval(refreshSoon, FALLBACK_POLL_MS);
  }

  function stopPolling() {
    clearInterval(state.pollTimer);
    state.pollTimer = null;
  }

  // -------------------------------------------------------------------- init

  function bind() {
    $("status-toggle").addEventListener("click", toggleStatus);
    $("logout").addEventListener("click", logout);
    $("claim").addEventListener("click", claim);
    $("handback").addEventListener("click", handback);
    $("close").addEventListener("click", closeTicket);
    $("error-close").addEventListener("click", () => showError(""));
    bindComposer();
    window.addEventListener("hashchange", () => {
      const id = idFromHash();
      if (id && id !== state.selected) select(id);
    });
    window.addEventListener("focus", stopFlash);
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && document.hasFocus()) stopFlash();
    });
    setInterval(tick, 1000);
  }

  async function init() {
    bind();
    setConn("connecting");
    try {
      await loadMe();
    } catch (err) {
      if (!(err instanceof LoginRequired)) showError("担当者情報を読み込めませんでした。ページを再読み込みしてください。");
      return;
    }
    try {
      await loadQueue();
    } catch (err) {
      networkError(err, "一覧を読み込み");
    }
    if (state.selected) select(state.selected);
    connectEvents();
    document.body.setAttribute("data-ready", "true");
  }

  init();
})();
