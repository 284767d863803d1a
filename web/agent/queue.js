/*
 * Agent console: the left column. The three queues (対応待ち, 対応中(自分),
 * 他の担当者が対応中) with their counts, the wait clocks of waiting tickets,
 * the unread dots (message counts seen per agent, in localStorage) and the
 * tab title that flashes for a new waiting ticket.
 */
(() => {
  "use strict";

  const C = window.CCConsole;
  const { API, state, $, el, clear, parseTime, hhmm, reasonLabel, channelLabel, announce } = C;

  const TITLE = document.title;
  const WAIT_WARN_S = 120; // orange
  const WAIT_ALERT_S = 300; // red

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
    const res = await C.api("GET", `${API}/queue`);
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

  // LINE's monthly message quota (pushes: every agent message to a LINE customer).
  function renderLineQuota(line) {
    const box = $("line-quota");
    box.hidden = !line || typeof line.text !== "string";
    box.textContent = box.hidden ? "" : line.text;
    box.dataset.warn = line && line.warn ? "true" : "false";
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
    renderLineQuota((q.channels || {}).line);
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

    b.addEventListener("click", () => C.select(t.id));
    li.appendChild(b);
    return li;
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

  Object.assign(C, { loadSeen, markSeen, loadQueue, tick, stopFlash });
})();
