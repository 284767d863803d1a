/*
 * Agent console: the right column. The selected ticket (its id in
 * location.hash), its details, the bot transcript, the live chat with the
 * customer, 対応する / ボットに戻す / 対応終了, and the message box (Enter
 * sends, never while an IME is composing).
 */
(() => {
  "use strict";

  const C = window.CCConsole;
  const { API, MAX_MESSAGE, state, $, el, clear, setHash, hhmm, reasonLabel, channelLabel, isMine, findInQueue, showError, announce } = C;

  const CLOSE_REASONS = {
    handback: "ボットに戻しました",
    close: "対応を終了しました",
    customer: "お客様がボットに戻りました",
  };
  const ROLE_LABELS = { customer: "お客様", agent: "担当者", system: "システム" };

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
    loadDetail().catch((err) => C.networkError(err, "チケットを読み込み"));
  }

  async function loadDetail() {
    const id = state.selected;
    if (!id) return renderDetail(null);
    const res = await C.api("GET", `${API}/tickets/${encodeURIComponent(id)}`);
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
      C.apiError(res, "チケットを読み込み");
      return;
    }
    applyDetail(res.data);
  }

  function applyDetail(detail) {
    if (!detail || detail.id !== state.selected) return;
    state.detail = detail;
    renderDetail(detail);
    C.markSeen(detail);
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
      const res = await C.api("POST", ticketPath(id, action));
      return res;
    } catch (err) {
      C.networkError(err, what);
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
      C.apiError(res, "対応を開始");
    }
    C.refreshSoon();
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
      C.apiError(res, "ボットに戻");
    }
    C.refreshSoon();
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
      C.apiError(res, "対応を終了");
    }
    C.refreshSoon();
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
      const res = await C.api("POST", ticketPath(id, "messages"), { text });
      if (res.status === 201 || res.ok) {
        showError("");
        if (input.value.trim() === text) input.value = "";
        state.drafts.delete(id);
        if (res.data && state.detail && state.detail.id === id) {
          const msgs = state.detail.messages || (state.detail.messages = []);
          if (!msgs.some((m) => m.id != null && m.id === res.data.id)) msgs.push(res.data);
          state.detail.message_count = msgs.length;
          renderMessages(state.detail);
          C.markSeen(state.detail);
          const scroller = $("ticket-scroll");
          scroller.scrollTop = scroller.scrollHeight;
        }
      } else {
        C.apiError(res, "送信"); // the text stays in the box
      }
    } catch (err) {
      C.networkError(err, "送信");
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

  Object.assign(C, { select, loadDetail, claim, handback, closeTicket, bindComposer });
})();
