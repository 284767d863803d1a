/*
 * CC Assistant chat widget: the conversation. History entries, what the bot
 * sends (text messages and custom payloads, which replace the plain bubbles
 * they repeat), the handoff state (a ticket, a person who took over the chat:
 * docs/live-chat.md), and what the user sends.
 *
 * Not embedded by itself: widget.js loads it from its own directory and calls
 * the function below with its context `cc`; this file adds cc.cleanButtons,
 * cc.addWelcome, cc.agentName, cc.agentOwns, cc.submitInput, cc.sendUser,
 * cc.emitMessage, cc.resetConversation and cc.onBotUttered.
 */
(function () {
  "use strict";

  var parts = (window.__ccAssistantParts = window.__ccAssistantParts || {});

  parts.chat = function (cc) {
    var cfg = cc.cfg;
    var state = cc.state;
    var store = cc.store;
    var ui = cc.ui;

    // Payloads about a person (agent) who took over the chat (docs/live-chat.md).
    var AGENT_KINDS = { agent_joined: true, agent_message: true, agent_left: true };

    function normalize(text) {
      return String(text || "").replace(/\s+/g, " ").trim();
    }

    function cleanButtons(list) {
      if (!Array.isArray(list)) return [];
      return list
        .filter(function (b) {
          return b && typeof b.title === "string" && typeof b.payload === "string";
        })
        .map(function (b) {
          return { title: b.title, payload: b.payload };
        });
    }

    // -------------------------------------------------------------- messages
    // A history entry: {id, from: "user"|"bot", text, buttons?, payload?, ts, feedback?}

    var seq = 0;
    function entryId() {
      seq += 1;
      return Date.now().toString(36) + "-" + seq;
    }

    function addEntry(entry) {
      entry.id = entry.id || entryId();
      entry.ts = entry.ts || Date.now();
      state.history.push(entry);
      cc.saveHistory();
      ui.list.appendChild(cc.renderEntry(entry));
      cc.scrollToEnd();
      return entry;
    }

    function removeEntry(id) {
      state.history = state.history.filter(function (e) {
        return e.id !== id;
      });
      var node = ui.list.querySelector('[data-entry="' + CSS.escape(id) + '"]');
      if (node) node.remove();
    }

    function addWelcome() {
      addEntry({
        from: "bot",
        text: cfg.welcome,
        buttons: cfg.examples
          .map(function (q) {
            return { title: String(q), payload: String(q) };
          })
          // training: true (operator training pages only): a 研修モード button
          .concat(cfg.training === true ? [{ title: "研修モード", payload: "研修モード" }] : []),
        payload: { kind: "welcome", text: cfg.welcome },
      });
    }

    function agentName(p) {
      return p && typeof p.agent === "string" && p.agent.trim() ? p.agent.trim() : "担当者";
    }

    // ---------------------------------------------------------- handoff state

    function setHandoff(h) {
      state.handoff = h;
      if (h) store.set("localStorage", "handoff", h);
      else store.remove("localStorage", "handoff");
      cc.renderBanner();
    }

    // While a person owns the conversation the bot stays silent: no typing
    // indicator (it would never end) and the input says who reads it.
    function agentOwns() {
      return !!(state.handoff && state.handoff.state === "agent");
    }

    function updateHandoff(p) {
      var ticket = typeof p.ticket === "string" ? p.ticket : null;
      if (p.kind === "handoff" && ticket) {
        setHandoff({ ticket: ticket, within_hours: !!p.within_hours, state: "active" });
      } else if (p.kind === "handoff_closed") {
        setHandoff(null);
      } else if (p.kind === "back_to_bot" && state.handoff) {
        setHandoff({ ticket: ticket || state.handoff.ticket, within_hours: state.handoff.within_hours, state: "returned" });
      } else if (p.kind === "agent_joined" || p.kind === "agent_message") {
        // agent_message too: a reply whose agent_joined was missed (another tab,
        // cleared storage) still means a person owns the conversation.
        var h = state.handoff;
        var name = agentName(p);
        if (p.kind === "agent_joined" || !agentOwns() || h.agent !== name || (ticket && h.ticket !== ticket)) {
          setHandoff({
            ticket: ticket || (h && h.ticket) || "",
            within_hours: true,
            state: "agent",
            agent: name,
          });
        }
      } else if (p.kind === "agent_left") {
        // The ticket is closed (handed back, closed, or the customer went back
        // to the bot): the bot answers again.
        if (!state.handoff || !ticket || state.handoff.ticket === ticket) setHandoff(null);
      }
    }

    // ------------------------------------------------------------- bot input

    // bot_uttered carries either a text message {text, quick_replies|buttons}
    // or a custom payload ({custom: {...}} from our channel, or the dict itself).
    function onBotUttered(data) {
      cc.hideTyping();
      if (!data || typeof data !== "object") return;
      var payload = null;
      if (data.custom && typeof data.custom === "object") payload = data.custom;
      else if (typeof data.kind === "string") payload = data;

      if (payload) return onPayload(payload);
      if (typeof data.text === "string") {
        var entry = addEntry({
          from: "bot",
          text: data.text,
          buttons: cleanButtons(data.quick_replies || data.buttons),
        });
        state.turnTexts.push(entry);
      } else if (data.attachment && data.attachment.payload && cc.isHttpUrl(data.attachment.payload.src)) {
        addEntry({ from: "bot", text: "", payload: { kind: "link", url: data.attachment.payload.src } });
      }
    }

    // A payload repeats the text just sent: the plain bubbles it covers are
    // replaced by one rich entry that keeps their buttons.
    function onPayload(p) {
      if (AGENT_KINDS[p.kind]) return onAgentPayload(p);
      var full = normalize(p.text);
      var buttons = [];
      state.turnTexts.forEach(function (e) {
        if (full && full.indexOf(normalize(e.text)) !== -1) {
          buttons = buttons.concat(e.buttons || []);
          removeEntry(e.id);
        }
      });
      state.turnTexts = [];
      updateHandoff(p);
      if (p.text == null && !buttons.length && !isRichKind(p.kind)) return; // nothing to show
      // The text lives in the payload; not stored twice (localStorage is small).
      addEntry({ from: "bot", text: "", buttons: buttons, payload: sanitizePayload(p) });
      if (p.kind === "goodbye") askCsat();
    }

    // CSAT (cfg.csat, off by default): once per session, after a goodbye or when an
    // agent left; the server logs that it was asked and the 1-5 answer.
    function askCsat() {
      if (!cfg.csat || !state.sessionId) return;
      var key = "csat." + state.sessionId;
      if (cc.store.get("localStorage", key)) return;
      cc.store.set("localStorage", key, true);
      addEntry({ from: "bot", text: "", payload: { kind: "csat", text: "今回のチャットはいかがでしたか?" } });
      sendCsat({ asked: true });
    }

    function sendCsat(fields) {
      if (!state.socket || !state.sessionId) return;
      var data = { session_id: state.sessionId };
      Object.keys(fields).forEach(function (k) { data[k] = fields[k]; });
      state.socket.emit("csat", data);
    }

    // agent_joined / agent_message / agent_left: one entry each, in the history
    // like any other (a reload shows them). A plain bubble with exactly the same
    // text (a channel that sends the text separately) is replaced; an
    // agent_message already shown (same message id, e.g. re-sent after a
    // reconnect) is not shown twice.
    function onAgentPayload(p) {
      var full = normalize(p.text);
      state.turnTexts = state.turnTexts.filter(function (e) {
        if (full && normalize(e.text) === full) {
          removeEntry(e.id);
          return false;
        }
        return true;
      });
      if (p.id != null && hasAgentMessage(p.id)) return;
      updateHandoff(p);
      if (p.text == null) return;
      var ts = p.kind === "agent_message" && p.time ? Date.parse(p.time) : NaN;
      addEntry({ from: "bot", text: "", payload: sanitizePayload(p), ts: isNaN(ts) ? undefined : ts });
      if (p.kind === "agent_left") askCsat();
    }

    // Every message from the agent side carries its stored id (agent_joined/left too).
    function hasAgentMessage(id) {
      return state.history.some(function (e) {
        return e && e.payload && AGENT_KINDS[e.payload.kind] && String(e.payload.id) === String(id);
      });
    }

    // The highest agent-side message id shown: after a reconnect the server sends
    // what came later (agent_sync), e.g. what the agent wrote during a reload.
    function lastAgentMessageId() {
      var last = 0;
      state.history.forEach(function (e) {
        var id = e && e.payload && AGENT_KINDS[e.payload.kind] ? Number(e.payload.id) : 0;
        if (id > last) last = id;
      });
      return last;
    }

    function isRichKind(kind) {
      return ["definition", "comparison", "faq", "handoff", "unknown_term", "offer_human"].indexOf(kind) !== -1;
    }

    // Keep only JSON data (the payload is stored in localStorage and rendered later).
    function sanitizePayload(p) {
      try {
        return JSON.parse(JSON.stringify(p));
      } catch (e) {
        return { kind: String(p.kind || "text"), text: String(p.text || "") };
      }
    }

    // ------------------------------------------------------------ user input

    function submitInput() {
      var text = ui.input.value.trim();
      if (!text) return;
      ui.input.value = "";
      cc.autosize();
      sendUser(text, text);
    }

    // Shows `title` as the user's bubble and sends `message` (text or /intent).
    function sendUser(message, title) {
      state.turnTexts = [];
      addEntry({ from: "user", text: title });
      emitMessage(message);
    }

    function emitMessage(message) {
      if (!agentOwns()) cc.showTyping(); // a person answers when they answer

      // Exactly once: every message has an id and stays in localStorage until the
      // server acknowledges its stored turn (message_ack); after a reconnect or a
      // failed turn it is sent again with the same id (docs/reliability.md).
      var item = cc.addPending(message);
      if (state.socket && state.confirmed) {
        cc.emitPending(item);
      } else {
        cc.connect(); // session_confirm sends every pending message
      }
    }

    function resetConversation() {
      state.history = [];
      state.turnTexts = [];
      state.queue = [];
      cc.clearPending();
      cc.saveHistory();
      setHandoff(null);
      while (ui.list.firstChild) ui.list.removeChild(ui.list.firstChild);
      state.sessionId = null; // the server issues a new session on the next session_request
      state.sessionToken = null;
      store.remove("localStorage", "session");
      store.remove("localStorage", "token");
      cc.hideTyping();
      if (state.socket) {
        // A new socket leaves the old session's room; connect re-requests the session.
        state.confirmed = false;
        state.socket.disconnect();
        state.socket.connect();
      }
      addWelcome();
      ui.input.focus();
    }

    cc.cleanButtons = cleanButtons;
    cc.addWelcome = addWelcome;
    cc.agentName = agentName;
    cc.agentOwns = agentOwns;
    cc.submitInput = submitInput;
    cc.sendUser = sendUser;
    cc.emitMessage = emitMessage;
    cc.sendCsat = sendCsat;
    cc.resetConversation = resetConversation;
    cc.onBotUttered = onBotUttered;
    cc.lastAgentMessageId = lastAgentMessageId;
  };
})();
