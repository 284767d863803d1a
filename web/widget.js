/*
 * CC Assistant chat widget: a launcher button + chat panel for any page.
 *
 *   <script>window.CCAssistantConfig = { serverUrl: "https://bot.example.jp" };</script>
 *   <script src="https://support.example.jp/chat/widget.js" defer></script>
 *
 * Talks to Rasa's socket.io channel (channels/socketio_allowlist.py). Every
 * string from the user or the bot goes into the page through textContent /
 * createTextNode; the only URLs turned into links are http(s) ones.
 */
(function () {
  "use strict";

  if (window.__ccAssistantLoaded) return; // embedded twice: keep one widget
  window.__ccAssistantLoaded = true;

  var script = document.currentScript;
  // widget.css and the socket.io client live next to widget.js.
  var ASSET_BASE = script && script.src ? script.src.replace(/[^/?#]*([?#].*)?$/, "") : "";

  var DEFAULTS = {
    serverUrl: "http://localhost:5005",
    socketPath: "/socket.io",
    title: "サポートチャット",
    primaryColor: "#0b5cad",
    storageKey: "ccAssistant",
    socketIoUrl: ASSET_BASE + "vendor/socket.io.min.js",
    stylesheetUrl: ASSET_BASE + "widget.css",
    // websocket first; long-polling when a proxy blocks websockets.
    transports: ["websocket", "polling"],
    examples: ["ACWとは?", "インバウンドとアウトバウンドの違いは?", "オペレーターと話したい"],
    welcome:
      "こんにちは。コンタクトセンターの用語やよくあるご質問にお答えします。下の例を押すか、質問を入力してください。",
  };
  var MAX_HISTORY = 100;
  // Payloads about a person (agent) who took over the chat (docs/live-chat.md).
  var AGENT_KINDS = { agent_joined: true, agent_message: true, agent_left: true };
  var MAX_INPUT = 500;
  var TYPING_TIMEOUT_MS = 30000;
  // Payload kinds that get 👍/👎 under the answer.
  var FEEDBACK_KINDS = { definition: true, faq: true };
  var YES_NO = [
    { title: "はい", payload: "/affirm" },
    { title: "いいえ", payload: "/deny" },
  ];
  // Material Design "thumb_up" (Apache-2.0); thumbs down is the same, rotated.
  var THUMB_UP =
    "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 " +
    "7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z";
  var HUMAN_BUTTON = { title: "オペレーターに相談", payload: "/request_human" };
  var STATUS_TEXT = {
    idle: "未接続",
    connecting: "接続中…",
    online: "オンライン",
    reconnecting: "再接続中…",
  };

  // ---------------------------------------------------------------- config

  function isHttpUrl(value) {
    try {
      var u = new URL(String(value), window.location.href);
      return u.protocol === "http:" || u.protocol === "https:";
    } catch (e) {
      return false;
    }
  }

  function readConfig() {
    var given = window.CCAssistantConfig || {};
    var data = (script && script.dataset) || {};
    var cfg = {};
    Object.keys(DEFAULTS).forEach(function (k) {
      cfg[k] = DEFAULTS[k];
    });
    // data- attributes on the script tag win over the config object.
    var map = {
      serverUrl: data.serverUrl,
      socketPath: data.socketPath,
      title: data.title,
      primaryColor: data.primaryColor,
      storageKey: data.storageKey,
    };
    Object.keys(given).forEach(function (k) {
      if (k in DEFAULTS && given[k] != null) cfg[k] = given[k];
    });
    Object.keys(map).forEach(function (k) {
      if (map[k]) cfg[k] = map[k];
    });
    if (!isHttpUrl(cfg.serverUrl)) {
      console.error("[CCAssistant] serverUrl must be an http(s) URL:", cfg.serverUrl);
      cfg.serverUrl = DEFAULTS.serverUrl;
    }
    if (!/^\/[\w\-./]*$/.test(cfg.socketPath)) cfg.socketPath = DEFAULTS.socketPath;
    // Only plain colour notations reach the CSS variable.
    if (!/^(#[0-9a-f]{3,8}|rgba?\([\d\s.,%]+\)|[a-z]{3,20})$/i.test(cfg.primaryColor)) {
      cfg.primaryColor = DEFAULTS.primaryColor;
    }
    if (!Array.isArray(cfg.examples)) cfg.examples = DEFAULTS.examples;
    var transports = Array.isArray(cfg.transports)
      ? cfg.transports.filter(function (t) {
          return t === "websocket" || t === "polling";
        })
      : [];
    cfg.transports = transports.length ? transports : DEFAULTS.transports;
    cfg.title = String(cfg.title);
    return cfg;
  }

  var cfg = readConfig();

  // --------------------------------------------------------------- storage
  // localStorage can throw (blocked cookies, private mode): the widget must
  // still work, it just forgets on reload.

  var store = {
    get: function (area, key, fallback) {
      try {
        var raw = window[area].getItem(cfg.storageKey + "." + key);
        return raw == null ? fallback : JSON.parse(raw);
      } catch (e) {
        return fallback;
      }
    },
    set: function (area, key, value) {
      try {
        window[area].setItem(cfg.storageKey + "." + key, JSON.stringify(value));
      } catch (e) {
        /* quota or disabled: not fatal */
      }
    },
    remove: function (area, key) {
      try {
        window[area].removeItem(cfg.storageKey + "." + key);
      } catch (e) {
        /* ignore */
      }
    },
  };

  function newSessionId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    var a = new Uint8Array(16);
    crypto.getRandomValues(a);
    return Array.prototype.map
      .call(a, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }

  var state = {
    sessionId: store.get("localStorage", "session", null) || newSessionId(),
    history: store.get("localStorage", "history", []),
    handoff: store.get("localStorage", "handoff", null),
    socket: null,
    confirmed: false,
    queue: [], // messages typed while not connected, sent after session_confirm
    turnTexts: [], // plain bot bubbles that a following payload may replace
    composing: false,
    typingTimer: null,
    connecting: false,
    open: false,
  };
  if (!Array.isArray(state.history)) state.history = [];
  store.set("localStorage", "session", state.sessionId);

  function saveHistory() {
    if (state.history.length > MAX_HISTORY) {
      state.history = state.history.slice(-MAX_HISTORY);
    }
    store.set("localStorage", "history", state.history);
  }

  // ------------------------------------------------------------------- DOM

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = String(text);
    return node;
  }

  function svgIcon(pathD) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", pathD);
    svg.appendChild(path);
    return svg;
  }

  function srOnly(text) {
    return el("span", "cca-sr-only", text);
  }

  function safeLink(url, label) {
    if (!isHttpUrl(url)) return el("span", "cca-link-text", label || url);
    var a = el("a", "cca-link", label || url);
    a.href = new URL(String(url), window.location.href).href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }

  function hhmm(ts) {
    var d = new Date(ts);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }

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

  // The widget's skeleton. Built once; messages are appended to ui.list.
  var ui = {};

  function buildUi() {
    var root = el("div", "cca-root");
    root.id = "cca-root";
    root.style.setProperty("--cca-primary", cfg.primaryColor); // CSSOM: allowed by CSP

    var launcher = el("button", "cca-launcher");
    launcher.type = "button";
    launcher.setAttribute("aria-label", cfg.title + "を開く(チャットで質問する)");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "cca-panel");
    launcher.appendChild(
      svgIcon("M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z")
    );
    launcher.appendChild(el("span", "cca-launcher__label", "質問する"));

    var panel = el("div", "cca-panel");
    panel.id = "cca-panel";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-modal", "false");
    panel.setAttribute("aria-labelledby", "cca-title");
    panel.setAttribute("aria-describedby", "cca-status");

    var header = el("div", "cca-header");
    var heading = el("div", "cca-header__text");
    var title = el("h2", "cca-title", cfg.title);
    title.id = "cca-title";
    var status = el("p", "cca-status");
    status.id = "cca-status";
    status.setAttribute("role", "status");
    heading.appendChild(title);
    heading.appendChild(status);
    var reset = el("button", "cca-icon-btn cca-reset", "新しい会話");
    reset.type = "button";
    reset.setAttribute("aria-label", "会話の履歴を消して新しい会話を始める");
    var close = el("button", "cca-icon-btn cca-close");
    close.type = "button";
    close.setAttribute("aria-label", "チャットを閉じる");
    close.appendChild(svgIcon("M6 6l12 12M18 6L6 18"));
    header.appendChild(heading);
    header.appendChild(reset);
    header.appendChild(close);

    var banner = el("div", "cca-handoff");
    banner.setAttribute("role", "status");
    banner.hidden = true;

    var list = el("div", "cca-messages");
    list.setAttribute("role", "log");
    list.setAttribute("aria-live", "polite");
    list.setAttribute("aria-label", "会話");
    list.tabIndex = 0; // scrollable region reachable by keyboard

    var typing = el("div", "cca-typing");
    typing.hidden = true;
    typing.setAttribute("role", "status");
    typing.appendChild(el("span", "cca-typing__dot"));
    typing.appendChild(el("span", "cca-typing__dot"));
    typing.appendChild(el("span", "cca-typing__dot"));
    typing.appendChild(srOnly("回答を入力中…"));

    var form = el("form", "cca-composer");
    form.setAttribute("novalidate", "");
    var label = el("label", "cca-sr-only", "質問を入力");
    label.htmlFor = "cca-input";
    var input = el("textarea", "cca-input");
    input.id = "cca-input";
    input.rows = 1;
    input.maxLength = MAX_INPUT;
    input.placeholder = "質問を入力(例: ACWとは?)";
    input.setAttribute("aria-describedby", "cca-hint");
    input.setAttribute("enterkeyhint", "send");
    var send = el("button", "cca-send");
    send.type = "submit";
    send.setAttribute("aria-label", "送信");
    send.appendChild(svgIcon("M3 20l18-8L3 4v6l12 2-12 2z"));
    var hint = el("p", "cca-hint", "Enterで送信・Shift+Enterで改行");
    hint.id = "cca-hint";
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(send);

    panel.appendChild(header);
    panel.appendChild(banner);
    panel.appendChild(list);
    panel.appendChild(typing);
    panel.appendChild(form);
    panel.appendChild(hint);
    root.appendChild(panel);
    root.appendChild(launcher);

    ui = {
      root: root,
      launcher: launcher,
      panel: panel,
      status: status,
      banner: banner,
      list: list,
      typing: typing,
      form: form,
      input: input,
      reset: reset,
      close: close,
    };

    launcher.addEventListener("click", function () {
      state.open ? closePanel() : openPanel();
    });
    close.addEventListener("click", closePanel);
    reset.addEventListener("click", resetConversation);
    panel.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" && !state.composing && !ev.isComposing) {
        ev.preventDefault();
        closePanel();
      }
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      submitInput();
    });
    bindIme(input);
    input.addEventListener("input", autosize);
  }

  // Japanese IME: the Enter that confirms a kana→kanji conversion must not send.
  // isComposing covers modern browsers, keyCode 229 the ones (Safari, old
  // Chrome) that fire keydown after compositionend, and the flag the rest.
  function bindIme(input) {
    input.addEventListener("compositionstart", function () {
      state.composing = true;
    });
    input.addEventListener("compositionend", function () {
      state.composing = false;
    });
    input.addEventListener("keydown", function (ev) {
      if (ev.key !== "Enter") return;
      if (ev.isComposing || ev.keyCode === 229 || state.composing) return;
      if (ev.shiftKey) return; // newline
      ev.preventDefault();
      submitInput();
    });
  }

  function autosize() {
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight, 120) + "px";
  }

  function setStatus(key) {
    ui.status.textContent = STATUS_TEXT[key] || key;
    ui.status.setAttribute("data-state", key);
    ui.root.setAttribute("data-connection", key);
  }

  function openPanel() {
    if (!ui.panel.hidden) return;
    state.open = true;
    ui.panel.hidden = false;
    ui.root.classList.add("cca-root--open");
    ui.launcher.setAttribute("aria-expanded", "true");
    store.set("sessionStorage", "open", true);
    if (!state.history.length) addWelcome();
    connect();
    scrollToEnd();
    ui.input.focus();
  }

  function closePanel() {
    if (ui.panel.hidden) return;
    state.open = false;
    ui.panel.hidden = true;
    ui.root.classList.remove("cca-root--open");
    ui.launcher.setAttribute("aria-expanded", "false");
    store.set("sessionStorage", "open", false);
    ui.launcher.focus();
  }

  function scrollToEnd() {
    ui.list.scrollTop = ui.list.scrollHeight;
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
    saveHistory();
    ui.list.appendChild(renderEntry(entry));
    scrollToEnd();
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
      buttons: cfg.examples.map(function (q) {
        return { title: String(q), payload: String(q) };
      }),
      payload: { kind: "welcome", text: cfg.welcome },
    });
  }

  // Who a row is from: the user, the bot, a person (agent) or the system
  // (an agent joining or leaving: a centred line).
  function rowSide(entry, kind) {
    if (entry.from === "user") return "user";
    if (kind === "agent_message") return "agent";
    if (kind === "agent_joined" || kind === "agent_left") return "system";
    return "bot";
  }

  function agentName(p) {
    return p && typeof p.agent === "string" && p.agent.trim() ? p.agent.trim() : "担当者";
  }

  var SPEAKER = { user: "あなた: ", bot: "アシスタント: ", system: "お知らせ: " };

  function renderEntry(entry) {
    var kind = entry.payload && typeof entry.payload.kind === "string" ? entry.payload.kind : "text";
    var side = rowSide(entry, kind);
    var row = el("div", "cca-row cca-row--" + side);
    row.setAttribute("data-entry", entry.id);
    row.setAttribute("data-kind", entry.from === "user" ? "user" : kind);
    row.appendChild(srOnly(side === "agent" ? "担当者(" + agentName(entry.payload) + "): " : SPEAKER[side]));

    var body = entry.from === "user" ? bubble(entry.text) : renderBot(entry, kind);
    row.appendChild(body);

    if (entry.from !== "user") {
      buttonGroups(entry, kind).forEach(function (g) {
        if (g.buttons.length) row.appendChild(renderButtons(g.buttons, g.label));
      });
    }
    if (entry.from !== "user" && FEEDBACK_KINDS[kind]) row.appendChild(renderFeedback(entry));

    var time = el("time", "cca-time", hhmm(entry.ts));
    time.dateTime = new Date(entry.ts).toISOString();
    row.appendChild(time);
    return row;
  }

  function bubble(text, extraClass) {
    return el("div", "cca-bubble" + (extraClass ? " " + extraClass : ""), text);
  }

  function renderBot(entry, kind) {
    var p = entry.payload || {};
    switch (kind) {
      case "definition":
        return renderDefinition(p);
      case "comparison":
        return renderComparison(p);
      case "faq":
        return renderFaq(p);
      case "handoff":
        return renderHandoffCard(p);
      case "agent_message":
        return renderAgentMessage(p);
      case "agent_joined":
      case "agent_left":
        return el("p", "cca-system", p.text != null ? p.text : entry.text);
      case "link": {
        var b = bubble(null);
        b.appendChild(safeLink(p.url, "画像を開く"));
        return b;
      }
      default:
        return bubble(p.text != null ? p.text : entry.text);
    }
  }

  function renderDefinitions(defs) {
    defs = Array.isArray(defs) ? defs : [];
    if (defs.length === 1) return el("p", "cca-card__def", defs[0]);
    var ol = el("ol", "cca-card__defs");
    defs.forEach(function (d) {
      ol.appendChild(el("li", "cca-card__def", d));
    });
    return ol;
  }

  function renderDefinition(p) {
    var card = el("article", "cca-card cca-card--definition");
    card.setAttribute("aria-label", "用語解説: " + (p.term || ""));
    card.appendChild(el("p", "cca-card__label", "用語解説"));
    card.appendChild(el("h3", "cca-card__term", p.term));
    if (p.reading && p.reading !== p.term) {
      card.appendChild(el("p", "cca-card__reading", p.reading));
    }
    card.appendChild(renderDefinitions(p.definitions));
    if (Array.isArray(p.aliases) && p.aliases.length) {
      var aliases = el("p", "cca-card__aliases");
      aliases.appendChild(el("span", "cca-card__key", "別名"));
      p.aliases.forEach(function (a) {
        aliases.appendChild(el("span", "cca-chip", a));
      });
      card.appendChild(aliases);
    }
    if (Array.isArray(p.related) && p.related.length) {
      var rel = el("div", "cca-card__related");
      rel.appendChild(el("span", "cca-card__key", "関連用語"));
      p.related.forEach(function (r) {
        var b = el("button", "cca-chip cca-chip--button", r);
        b.type = "button";
        b.setAttribute("aria-label", r + "とは?と質問する");
        b.addEventListener("click", function () {
          var q = r + "とは?";
          sendUser(q, q);
        });
        rel.appendChild(b);
      });
      card.appendChild(rel);
    }
    return card;
  }

  function renderComparison(p) {
    var card = el("article", "cca-card cca-card--comparison");
    var terms = Array.isArray(p.terms) ? p.terms : [];
    var heading = terms.length === 2 ? "「" + terms[0] + "」と「" + terms[1] + "」の違い" : "用語の比較";
    card.setAttribute("aria-label", heading);
    card.appendChild(el("p", "cca-card__label", "比較"));
    card.appendChild(el("h3", "cca-card__term", heading));
    var grid = el("div", "cca-compare");
    (Array.isArray(p.items) ? p.items : []).forEach(function (item) {
      var col = el("section", "cca-compare__item");
      col.appendChild(el("h4", "cca-compare__term", item.term));
      if (item.reading && item.reading !== item.term) {
        col.appendChild(el("p", "cca-card__reading", item.reading));
      }
      col.appendChild(renderDefinitions(item.definitions));
      grid.appendChild(col);
    });
    card.appendChild(grid);
    return card;
  }

  function renderFaq(p) {
    var card = el("article", "cca-card cca-card--faq");
    card.setAttribute("aria-label", "よくあるご質問: " + (p.title || ""));
    card.appendChild(el("p", "cca-card__label", "よくあるご質問"));
    if (p.title) card.appendChild(el("h3", "cca-card__term", p.title));
    // The text ends with "出典: <url>" for plain channels; shown as a link instead.
    var sourceLine = p.url ? "出典: " + p.url : null;
    var lines = String(p.text || "")
      .split("\n")
      .filter(function (line) {
        return !sourceLine || line.trim() !== sourceLine;
      });
    card.appendChild(el("p", "cca-card__text", lines.join("\n").trim()));
    if (p.url) {
      var src = el("p", "cca-card__source");
      src.appendChild(el("span", "cca-card__key", "出典"));
      src.appendChild(safeLink(p.url));
      card.appendChild(src);
    }
    return card;
  }

  function renderHandoffCard(p) {
    var card = el("article", "cca-card cca-card--handoff");
    card.appendChild(el("p", "cca-card__label", p.within_hours ? "オペレーターへ引き継ぎ" : "営業時間外の受付"));
    card.appendChild(el("p", "cca-card__text", p.text));
    if (p.ticket) {
      var t = el("p", "cca-card__ticket");
      t.appendChild(el("span", "cca-card__key", "受付番号"));
      t.appendChild(el("strong", null, p.ticket));
      card.appendChild(t);
    }
    return card;
  }

  // A message typed by a person: their name and initial above a bubble in
  // another colour than the bot's, so the customer sees who is writing.
  function renderAgentMessage(p) {
    var name = agentName(p);
    var wrap = el("div", "cca-agent");
    var who = el("p", "cca-agent__who");
    who.setAttribute("aria-hidden", "true"); // the row's sr-only prefix says it
    var avatar = el("span", "cca-agent__avatar", Array.from(name)[0]);
    who.appendChild(avatar);
    who.appendChild(el("span", "cca-agent__name", name));
    who.appendChild(el("span", "cca-agent__role", "担当者"));
    wrap.appendChild(who);
    wrap.appendChild(bubble(p.text, "cca-bubble--agent"));
    return wrap;
  }

  // Buttons a bot entry shows, in groups: for unknown_term the suggestions
  // (もしかして) first, then the card's own buttons and those that came with the
  // plain text message, deduplicated by payload.
  function buttonGroups(entry, kind) {
    var p = entry.payload || {};
    var seen = {};
    function fresh(b) {
      if (seen[b.payload]) return false;
      seen[b.payload] = true;
      return true;
    }
    var suggestions = [];
    var own = [];
    if (kind === "unknown_term") {
      suggestions = (Array.isArray(p.suggestions) ? p.suggestions : []).map(function (sug) {
        return { title: String(sug), payload: sug + "とは?" };
      });
      own = [HUMAN_BUTTON];
    } else if (kind === "offer_human" && !(entry.buttons && entry.buttons.length)) {
      own = YES_NO.slice();
    }
    return [
      { label: "もしかして", buttons: suggestions.filter(fresh) },
      { label: null, buttons: own.concat(cleanButtons(entry.buttons)).filter(fresh) },
    ];
  }

  function renderButtons(buttons, label) {
    var group = el("div", "cca-buttons");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", label || "返信の候補");
    if (label) group.appendChild(el("span", "cca-buttons__label", label + ":"));
    buttons.forEach(function (b) {
      var btn = el("button", "cca-quick" + (b.payload === "/request_human" ? " cca-quick--human" : ""), b.title);
      btn.type = "button";
      btn.addEventListener("click", function () {
        sendUser(b.payload, b.title);
      });
      group.appendChild(btn);
    });
    return group;
  }

  function renderFeedback(entry) {
    var bar = el("div", "cca-feedback");
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", "この回答は役に立ちましたか?");
    var thanks = el("span", "cca-feedback__thanks", "ご意見ありがとうございます");
    thanks.setAttribute("role", "status");
    if (entry.feedback) {
      bar.appendChild(thanks);
      return bar;
    }
    bar.appendChild(el("span", "cca-feedback__q", "役に立ちましたか?"));
    [
      { label: "役に立った", intent: "/feedback_positive", value: "up" },
      { label: "役に立たなかった", intent: "/feedback_negative", value: "down" },
    ].forEach(function (f) {
      // 👍/👎 drawn as SVG: emoji fonts are missing on many kiosks and servers.
      var b = el("button", "cca-feedback__btn cca-feedback__btn--" + f.value);
      b.appendChild(svgIcon(THUMB_UP));
      b.type = "button";
      b.setAttribute("aria-label", f.label);
      b.setAttribute("data-feedback", f.value);
      b.addEventListener("click", function () {
        entry.feedback = f.value;
        saveHistory();
        while (bar.firstChild) bar.removeChild(bar.firstChild);
        bar.appendChild(thanks);
        emitMessage(f.intent); // an intent, not something the user said: no bubble
      });
      bar.appendChild(b);
    });
    return bar;
  }

  // --------------------------------------------------------- handoff banner

  function setHandoff(h) {
    state.handoff = h;
    if (h) store.set("localStorage", "handoff", h);
    else store.remove("localStorage", "handoff");
    renderBanner();
  }

  // While a person owns the conversation the bot stays silent: no typing
  // indicator (it would never end) and the input says who reads it.
  function agentOwns() {
    return !!(state.handoff && state.handoff.state === "agent");
  }

  function renderBanner() {
    var b = ui.banner;
    while (b.firstChild) b.removeChild(b.firstChild);
    var h = state.handoff;
    b.hidden = !h;
    ui.root.setAttribute("data-agent", agentOwns() ? "true" : "false");
    ui.input.placeholder = agentOwns() ? "担当者へのメッセージを入力" : "質問を入力(例: ACWとは?)";
    if (agentOwns()) hideTyping();
    if (!h) return;
    b.setAttribute("data-state", h.state);
    var label =
      h.state === "agent"
        ? "担当者(" + (h.agent || "オペレーター") + ")と会話中"
        : h.state === "returned"
        ? "担当者へ引き継ぎ済み(ボットが応答中)"
        : h.within_hours
        ? "オペレーターにおつなぎしています"
        : "営業時間外に受付済み(担当者から対応します)";
    b.appendChild(el("span", "cca-handoff__state", label));
    var t = el("span", "cca-handoff__ticket");
    t.appendChild(document.createTextNode("受付番号 "));
    t.appendChild(el("strong", null, h.ticket));
    b.appendChild(t);
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
    hideTyping();
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
    } else if (data.attachment && data.attachment.payload && isHttpUrl(data.attachment.payload.src)) {
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
    if (p.kind === "agent_message" && p.id != null && hasAgentMessage(p.id)) return;
    updateHandoff(p);
    if (p.text == null) return;
    var ts = p.kind === "agent_message" && p.time ? Date.parse(p.time) : NaN;
    addEntry({ from: "bot", text: "", payload: sanitizePayload(p), ts: isNaN(ts) ? undefined : ts });
  }

  function hasAgentMessage(id) {
    return state.history.some(function (e) {
      return e && e.payload && e.payload.kind === "agent_message" && String(e.payload.id) === String(id);
    });
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
    autosize();
    sendUser(text, text);
  }

  // Shows `title` as the user's bubble and sends `message` (text or /intent).
  function sendUser(message, title) {
    state.turnTexts = [];
    addEntry({ from: "user", text: title });
    emitMessage(message);
  }

  function emitMessage(message) {
    if (!agentOwns()) showTyping(); // a person answers when they answer

    if (state.socket && state.confirmed) {
      state.socket.emit("user_uttered", { message: message, session_id: state.sessionId });
    } else {
      state.queue.push(message);
      connect();
    }
  }

  function showTyping() {
    ui.typing.hidden = false;
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(hideTyping, TYPING_TIMEOUT_MS);
    scrollToEnd();
  }

  function hideTyping() {
    clearTimeout(state.typingTimer);
    ui.typing.hidden = true;
  }

  function resetConversation() {
    state.history = [];
    state.turnTexts = [];
    state.queue = [];
    saveHistory();
    setHandoff(null);
    while (ui.list.firstChild) ui.list.removeChild(ui.list.firstChild);
    state.sessionId = newSessionId();
    store.set("localStorage", "session", state.sessionId);
    hideTyping();
    if (state.socket) {
      // A new socket leaves the old session's room; connect re-requests the session.
      state.confirmed = false;
      state.socket.disconnect();
      state.socket.connect();
    }
    addWelcome();
    ui.input.focus();
  }

  // ------------------------------------------------------------- transport

  function loadSocketIo(done) {
    if (typeof window.io === "function") return done();
    var s = document.createElement("script");
    s.src = cfg.socketIoUrl;
    s.async = true;
    s.onload = done;
    s.onerror = function () {
      setStatus("reconnecting");
      console.error("[CCAssistant] could not load", cfg.socketIoUrl);
    };
    document.head.appendChild(s);
  }

  function connect() {
    if (state.socket || state.connecting) return;
    state.connecting = true;
    setStatus("connecting");
    loadSocketIo(function () {
      // socket.io reconnects by itself (exponential backoff up to 10 s).
      var socket = window.io(cfg.serverUrl, {
        path: cfg.socketPath,
        transports: cfg.transports,
        tryAllTransports: true,
        reconnection: true,
        reconnectionDelay: 1000,
        reconnectionDelayMax: 10000,
      });
      state.socket = socket;
      socket.on("connect", function () {
        state.confirmed = false;
        socket.emit("session_request", { session_id: state.sessionId });
      });
      socket.on("session_confirm", function (id) {
        if (typeof id === "string" && id && id !== state.sessionId) {
          state.sessionId = id; // the server replaced an invalid id
          store.set("localStorage", "session", id);
        }
        state.confirmed = true;
        setStatus("online");
        var queued = state.queue;
        state.queue = [];
        queued.forEach(function (m) {
          socket.emit("user_uttered", { message: m, session_id: state.sessionId });
        });
      });
      socket.on("bot_uttered", onBotUttered);
      socket.on("disconnect", function () {
        state.confirmed = false;
        setStatus("reconnecting");
      });
      socket.on("connect_error", function () {
        state.confirmed = false;
        setStatus("reconnecting");
      });
    });
  }

  // ------------------------------------------------------------------ init

  // The widget stays hidden until its stylesheet is in: no flash of an
  // unstyled panel, and the scroll position is measured with real heights.
  function loadStylesheet(done) {
    if (!cfg.stylesheetUrl) return done();
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = cfg.stylesheetUrl;
    link.onload = done;
    link.onerror = done;
    document.head.appendChild(link);
  }

  function init() {
    buildUi();
    setStatus("idle");
    state.history.forEach(function (e) {
      if (e && typeof e === "object") ui.list.appendChild(renderEntry(e));
    });
    renderBanner();
    ui.root.hidden = true;
    document.body.appendChild(ui.root);
    window.CCAssistant = { open: openPanel, close: closePanel, reset: resetConversation };
    loadStylesheet(function () {
      ui.root.hidden = false;
      // Reopen after a reload in the same tab, and stay connected while a
      // handoff is running so staff replies arrive.
      if (store.get("sessionStorage", "open", false)) openPanel();
      else if (state.handoff && (state.handoff.state === "active" || state.handoff.state === "agent")) connect();
    });
  }


  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
