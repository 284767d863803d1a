/*
 * CC Assistant chat widget: the page furniture. The launcher button, the
 * panel (header, handoff banner, message list, typing indicator, input with
 * Japanese IME handling), opening and closing it, the connection status and
 * the small DOM helpers the renderers use.
 *
 * Not embedded by itself: widget.js loads it from its own directory and calls
 * the function below with its context `cc` (before widget-render.js's); this
 * file adds cc.el, cc.svgIcon, cc.srOnly, cc.safeLink, cc.buildUi, cc.setStatus,
 * cc.openPanel, cc.closePanel, cc.scrollToEnd, cc.autosize, cc.showTyping,
 * cc.hideTyping and cc.renderBanner, and fills cc.ui with the elements.
 */
(function () {
  "use strict";

  var parts = (window.__ccAssistantParts = window.__ccAssistantParts || {});

  parts.ui = function (cc) {
    var cfg = cc.cfg;
    var state = cc.state;
    var store = cc.store;
    var ui = cc.ui;

    var MAX_INPUT = 500;
    var TYPING_TIMEOUT_MS = 30000;
    var STATUS_TEXT = {
      idle: "未接続",
      connecting: "接続中…",
      online: "オンライン",
      reconnecting: "再接続中…",
    };

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
      if (!cc.isHttpUrl(url)) return el("span", "cca-link-text", label || url);
      var a = el("a", "cca-link", label || url);
      a.href = new URL(String(url), window.location.href).href;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      return a;
    }

    // The widget's skeleton. Built once; messages are appended to ui.list.
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

      ui.root = root;
      ui.launcher = launcher;
      ui.panel = panel;
      ui.status = status;
      ui.banner = banner;
      ui.list = list;
      ui.typing = typing;
      ui.form = form;
      ui.input = input;
      ui.reset = reset;
      ui.close = close;

      launcher.addEventListener("click", function () {
        state.open ? closePanel() : openPanel();
      });
      close.addEventListener("click", closePanel);
      reset.addEventListener("click", cc.resetConversation);
      panel.addEventListener("keydown", function (ev) {
        if (ev.key === "Escape" && !state.composing && !ev.isComposing) {
          ev.preventDefault();
          closePanel();
        }
      });
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        cc.submitInput();
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
        cc.submitInput();
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
      if (!state.history.length) cc.addWelcome();
      cc.connect();
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

    // The banner at the top of the panel: who has the conversation (handoff state).
    function renderBanner() {
      var b = ui.banner;
      while (b.firstChild) b.removeChild(b.firstChild);
      var h = state.handoff;
      b.hidden = !h;
      ui.root.setAttribute("data-agent", cc.agentOwns() ? "true" : "false");
      ui.input.placeholder = cc.agentOwns() ? "担当者へのメッセージを入力" : "質問を入力(例: ACWとは?)";
      if (cc.agentOwns()) hideTyping();
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

    cc.el = el;
    cc.svgIcon = svgIcon;
    cc.srOnly = srOnly;
    cc.safeLink = safeLink;
    cc.buildUi = buildUi;
    cc.setStatus = setStatus;
    cc.openPanel = openPanel;
    cc.closePanel = closePanel;
    cc.scrollToEnd = scrollToEnd;
    cc.autosize = autosize;
    cc.showTyping = showTyping;
    cc.hideTyping = hideTyping;
    cc.renderBanner = renderBanner;
  };
})();
