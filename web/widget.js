/*
 * CC Assistant chat widget: a launcher button + chat panel for any page.
 *
 *   <script>window.CCAssistantConfig = { serverUrl: "https://bot.example.jp" };</script>
 *   <script src="https://support.example.jp/chat/widget.js" defer></script>
 *
 * Talks to Rasa's socket.io channel (channels/socketio_allowlist.py). Every
 * string from the user or the bot goes into the page through textContent /
 * createTextNode; the only URLs turned into links are http(s) ones.
 *
 * This is the one file a page embeds: configuration, storage, state, the
 * socket.io transport and start-up. Before it shows anything it loads the
 * other parts from its own directory, in parallel: widget-ui.js (launcher,
 * panel, input), widget-chat.js (the conversation and the handoff state),
 * widget-render.js (how each entry looks), widget.css and widget-render.css.
 * The parts share one context object, `cc`, that is never put on window.
 */
(function () {
  "use strict";

  if (window.__ccAssistantLoaded) return; // embedded twice: keep one widget
  window.__ccAssistantLoaded = true;

  var script = document.currentScript;
  // The other parts, the stylesheets and the socket.io client live next to widget.js.
  var ASSET_BASE = script && script.src ? script.src.replace(/[^/?#]*([?#].*)?$/, "") : "";

  var DEFAULTS = {
    serverUrl: "http://localhost:5005",
    socketPath: "/socket.io",
    title: "サポートチャット",
    primaryColor: "#0b5cad",
    storageKey: "ccAssistant",
    socketIoUrl: ASSET_BASE + "vendor/socket.io.min.js",
    stylesheetUrl: ASSET_BASE + "widget.css",
    renderStylesheetUrl: ASSET_BASE + "widget-render.css",
    // websocket first; long-polling when a proxy blocks websockets.
    transports: ["websocket", "polling"],
    examples: ["ACWとは?", "インバウンドとアウトバウンドの違いは?", "オペレーターと話したい"],
    // Operator training pages only: a 研修モード button in the welcome (training mode).
    training: false,
    // Ask "how was this chat?" (1-5) after a conversation ends (goodbye, or an agent
    // left): off by default; data-csat="true" turns it on (docs/analytics.md).
    csat: false,
    welcome:
      "こんにちは。コンタクトセンターの用語やよくあるご質問にお答えします。下の例を押すか、質問を入力してください。",
  };
  var MAX_HISTORY = 100;
  // The other parts of the widget (web/README.md), installed in this order.
  // Each file registers window.__ccAssistantParts[name] = function (cc) {...},
  // which adds its functions to cc.
  var PARTS = [
    { name: "ui", url: ASSET_BASE + "widget-ui.js" },
    { name: "chat", url: ASSET_BASE + "widget-chat.js" },
    { name: "render", url: ASSET_BASE + "widget-render.js" },
  ];

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
    if (data.training === "true") cfg.training = true;
    cfg.training = cfg.training === true;
    if (data.csat === "true") cfg.csat = true;
    cfg.csat = cfg.csat === true;
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

  var state = {
    // Issued by the server with a token that proves this browser holds the session.
    sessionId: store.get("localStorage", "session", null),
    sessionToken: store.get("localStorage", "token", null),
    history: store.get("localStorage", "history", []),
    handoff: store.get("localStorage", "handoff", null),
    socket: null,
    confirmed: false,
    queue: [], // (kept for old callers) messages typed while not connected
    // Messages sent but not yet acknowledged ({id, message}); re-sent with the same id.
    pending: store.get("localStorage", "pending", []),
    seenReplies: store.get("localStorage", "seen", []), // ids whose replies were shown
    turnTexts: [], // plain bot bubbles that a following payload may replace
    composing: false,
    typingTimer: null,
    connecting: false,
    open: false,
  };
  if (!Array.isArray(state.history)) state.history = [];
  if (!Array.isArray(state.pending)) state.pending = [];
  if (!Array.isArray(state.seenReplies)) state.seenReplies = [];

  // ------------------------------------------------------- exactly once
  var MAX_PENDING = 20;
  var MAX_SEEN = 50;

  function newMessageId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }

  function savePending() {
    if (state.pending.length > MAX_PENDING) state.pending = state.pending.slice(-MAX_PENDING);
    store.set("localStorage", "pending", state.pending);
  }

  function addPending(message) {
    var item = { id: newMessageId(), message: message };
    state.pending.push(item);
    savePending();
    return item;
  }

  function emitPending(item) {
    if (!state.socket || !state.confirmed) return;
    state.socket.emit("user_uttered", {
      message: item.message,
      session_id: state.sessionId,
      message_id: item.id,
    });
  }

  function ackPending(data) {
    if (!data || typeof data.message_id !== "string") return;
    state.pending = state.pending.filter(function (p) {
      return p.id !== data.message_id;
    });
    savePending();
  }

  function retryPending(data) {
    // The turn failed and stored nothing (or the server was busy): same id again.
    if (!data || typeof data.message_id !== "string") return;
    var wait = typeof data.retry_after === "number" ? Math.min(Math.max(data.retry_after, 1), 30) : 2;
    setTimeout(function () {
      state.pending.forEach(function (p) {
        if (p.id === data.message_id) emitPending(p);
      });
    }, wait * 1000);
  }

  // A replayed reply (re-sent id whose turn was done) is shown only if this page has
  // not shown that turn's replies yet.
  function seenReply(data) {
    if (!data || typeof data.reply_to !== "string") return false;
    var seen = state.seenReplies.indexOf(data.reply_to) !== -1;
    if (data.replay && seen) return true;
    if (!seen) {
      state.seenReplies.push(data.reply_to);
      if (state.seenReplies.length > MAX_SEEN) state.seenReplies = state.seenReplies.slice(-MAX_SEEN);
      store.set("localStorage", "seen", state.seenReplies);
    }
    return false;
  }

  function clearPending() {
    state.pending = [];
    savePending();
  }

  function saveHistory() {
    if (state.history.length > MAX_HISTORY) {
      state.history = state.history.slice(-MAX_HISTORY);
    }
    store.set("localStorage", "history", state.history);
  }

  // The elements of the panel; widget-ui.js fills it in (cc.buildUi).
  var ui = {};
  var cc = {
    cfg: cfg,
    state: state,
    store: store,
    ui: ui,
    isHttpUrl: isHttpUrl,
    saveHistory: saveHistory,
    connect: connect, // function declarations are hoisted
    addPending: addPending,
    emitPending: emitPending,
    clearPending: clearPending,
  };

  // ------------------------------------------------------------- transport

  function loadSocketIo(done) {
    if (typeof window.io === "function") return done();
    var s = document.createElement("script");
    s.src = cfg.socketIoUrl;
    s.async = true;
    s.onload = done;
    s.onerror = function () {
      cc.setStatus("reconnecting");
      console.error("[CCAssistant] could not load", cfg.socketIoUrl);
    };
    document.head.appendChild(s);
  }

  function connect() {
    if (state.socket || state.connecting) return;
    state.connecting = true;
    cc.setStatus("connecting");
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
        socket.emit("session_request", { session_id: state.sessionId, token: state.sessionToken });
      });
      socket.on("session_token", function (data) {
        if (!data || typeof data.session_id !== "string" || typeof data.token !== "string") return;
        state.sessionId = data.session_id; // a new session when the old one could not be proven
        state.sessionToken = data.token;
        store.set("localStorage", "session", data.session_id);
        store.set("localStorage", "token", data.token);
      });
      socket.on("session_invalid", function () {
        // The server does not know this socket in the session (e.g. it restarted): rejoin.
        state.confirmed = false;
        socket.emit("session_request", { session_id: state.sessionId, token: state.sessionToken });
      });
      socket.on("session_confirm", function (id) {
        if (typeof id === "string" && id && id !== state.sessionId) {
          state.sessionId = id; // the server replaced an invalid id
          store.set("localStorage", "session", id);
        }
        state.confirmed = true;
        cc.setStatus("online");
        if (state.handoff) {
          // A person may have written while this page was away: ask for it.
          socket.emit("agent_sync", { session_id: state.sessionId, after: cc.lastAgentMessageId() });
        }
        var queued = state.queue;
        state.queue = [];
        queued.forEach(function (m) {
          addPending(m);
        });
        // Sent but not acknowledged (the server may have died mid-turn): same ids again.
        state.pending.forEach(emitPending);
      });
      socket.on("bot_uttered", function (data) {
        if (seenReply(data)) return;
        cc.onBotUttered(data);
      });
      socket.on("message_ack", ackPending);
      socket.on("message_failed", retryPending);
      socket.on("message_refused", ackPending); // a malformed id will not get better
      socket.on("disconnect", function () {
        state.confirmed = false;
        cc.setStatus("reconnecting");
      });
      socket.on("connect_error", function () {
        state.confirmed = false;
        cc.setStatus("reconnecting");
      });
    });
  }

  // ------------------------------------------------------------------ init

  function loadScript(url, done) {
    var s = document.createElement("script");
    s.src = url;
    s.async = true;
    s.onload = done;
    s.onerror = function () {
      console.error("[CCAssistant] could not load", url);
      done();
    };
    document.head.appendChild(s);
  }

  // A stylesheet that does not load is not fatal: the widget shows unstyled.
  function loadStylesheet(url, done) {
    if (!url) return done();
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = url;
    link.onload = done;
    link.onerror = done;
    document.head.appendChild(link);
  }

  // The widget stays hidden until its parts and stylesheets are in: no flash
  // of an unstyled panel, and the scroll position is measured with real
  // heights. All load in parallel; the <link>s keep their order (cascade).
  function loadParts(done) {
    var parts = (window.__ccAssistantParts = window.__ccAssistantParts || {});
    var left = 1;
    function one() {
      left -= 1;
      if (left) return;
      var missing = PARTS.filter(function (p) {
        return typeof parts[p.name] !== "function";
      });
      if (missing.length) {
        // the widget cannot draw itself: it stays off the page
        missing.forEach(function (p) {
          console.error("[CCAssistant] not loaded:", p.url);
        });
        return;
      }
      PARTS.forEach(function (p) {
        parts[p.name](cc);
      });
      done();
    }
    PARTS.forEach(function (p) {
      if (typeof parts[p.name] === "function") return; // already on the page
      left += 1;
      loadScript(p.url, one);
    });
    [cfg.stylesheetUrl, cfg.renderStylesheetUrl].forEach(function (url) {
      left += 1;
      loadStylesheet(url, one);
    });
    one();
  }

  function init() {
    // The host page may call these at once; they run when the widget is ready.
    var ready = false;
    var pending = [];
    function whenReady(name) {
      return function () {
        if (ready) cc[name]();
        else pending.push(name);
      };
    }
    window.CCAssistant = {
      open: whenReady("openPanel"),
      close: whenReady("closePanel"),
      reset: whenReady("resetConversation"),
    };
    loadParts(function () {
      cc.buildUi();
      cc.setStatus("idle");
      state.history.forEach(function (e) {
        if (e && typeof e === "object") ui.list.appendChild(cc.renderEntry(e));
      });
      cc.renderBanner();
      document.body.appendChild(ui.root);
      ready = true;
      // Reopen after a reload in the same tab, and stay connected while a
      // handoff is running so staff replies arrive.
      if (store.get("sessionStorage", "open", false)) cc.openPanel();
      else if (state.handoff && (state.handoff.state === "active" || state.handoff.state === "agent")) connect();
      pending.splice(0).forEach(function (name) {
        cc[name]();
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
