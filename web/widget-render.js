/*
 * CC Assistant chat widget: how a history entry looks. A user bubble, a bot
 * text bubble, or a rich card for a custom payload (definition, comparison,
 * faq, handoff, unknown_term, offer_human, agent_joined / agent_message /
 * agent_left; training mode: quiz_question, quiz_feedback, quiz_summary,
 * category_list, weak_terms), with its buttons and 👍/👎.
 *
 * Not embedded by itself: widget.js loads it from its own directory and calls
 * the function below with its context `cc` before anything is rendered; this
 * file adds cc.renderEntry. Like the rest of the widget, every string goes in
 * with textContent / createTextNode and only http(s) URLs become links.
 */
(function () {
  "use strict";

  var parts = (window.__ccAssistantParts = window.__ccAssistantParts || {});

  parts.render = function (cc) {
    var el = cc.el;
    var svgIcon = cc.svgIcon;
    var srOnly = cc.srOnly;
    var safeLink = cc.safeLink;

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

    // Who a row is from: the user, the bot, a person (agent) or the system
    // (an agent joining or leaving: a centred line).
    function rowSide(entry, kind) {
      if (entry.from === "user") return "user";
      if (kind === "agent_message") return "agent";
      if (kind === "agent_joined" || kind === "agent_left") return "system";
      return "bot";
    }

    var SPEAKER = { user: "あなた: ", bot: "アシスタント: ", system: "お知らせ: " };

    function renderEntry(entry) {
      var kind = entry.payload && typeof entry.payload.kind === "string" ? entry.payload.kind : "text";
      var side = rowSide(entry, kind);
      var row = el("div", "cca-row cca-row--" + side);
      row.setAttribute("data-entry", entry.id);
      row.setAttribute("data-kind", entry.from === "user" ? "user" : kind);
      row.appendChild(srOnly(side === "agent" ? "担当者(" + cc.agentName(entry.payload) + "): " : SPEAKER[side]));

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
        case "quiz_question":
          return renderQuizQuestion(entry, p);
        case "quiz_feedback":
          return renderQuizFeedback(p);
        case "quiz_summary":
          return renderQuizSummary(p);
        case "category_list":
          return renderCategoryList(p);
        case "weak_terms":
          return renderWeakTerms(p);
        case "csat":
          return renderCsat(entry, p);
        case "link": {
          var b = bubble(null);
          b.appendChild(safeLink(p.url, "画像を開く"));
          return b;
        }
        default:
          return bubble(p.text != null ? p.text : entry.text);
      }
    }

    // CSAT (docs/analytics.md): 1 (不満) … 5 (満足), answered once.
    function renderCsat(entry, p) {
      var card = el("div", "cca-bubble cca-csat");
      card.appendChild(el("p", "cca-csat__q", p.text || "今回のチャットはいかがでしたか?"));
      if (entry.csat) {
        card.appendChild(el("p", "cca-csat__thanks", "ご回答ありがとうございました(" + entry.csat + " / 5)"));
        return card;
      }
      var row = el("div", "cca-csat__scores");
      [1, 2, 3, 4, 5].forEach(function (n) {
        var b = el("button", "cca-csat__btn", String(n));
        b.type = "button";
        b.setAttribute("aria-label", n + "(5段階、5が満足)");
        b.setAttribute("data-csat", String(n));
        b.addEventListener("click", function () {
          entry.csat = n;
          cc.saveHistory();
          cc.sendCsat({ score: n });
          while (card.firstChild) card.removeChild(card.firstChild);
          card.appendChild(el("p", "cca-csat__thanks", "ご回答ありがとうございました(" + n + " / 5)"));
        });
        row.appendChild(b);
      });
      card.appendChild(row);
      card.appendChild(el("p", "cca-csat__scale", "1: 不満 ― 5: 満足"));
      return card;
    }

    function hhmm(ts) {
      var d = new Date(ts);
      return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
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
            cc.sendUser(q, q);
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

    // --- training mode (quiz cards) ----------------------------------------
    function progressLine(p) {
      var line = el("p", "cca-quiz__progress", (p.number || 0) + "/" + (p.total || 0));
      line.setAttribute("aria-label", "第" + (p.number || 0) + "問 / 全" + (p.total || 0) + "問");
      return line;
    }

    function termChip(term) {
      var b = el("button", "cca-chip cca-chip--button", term);
      b.type = "button";
      b.setAttribute("aria-label", term + "とは?と質問する");
      b.addEventListener("click", function () {
        cc.sendUser(term + "とは?", term + "とは?");
      });
      return b;
    }

    // A question: progress (3/10), the prompt, one button per option sending its
    // number; once answered (a later entry exists) the buttons are disabled.
    function renderQuizQuestion(entry, p) {
      var card = el("article", "cca-card cca-card--quiz");
      card.setAttribute("aria-label", "研修クイズ 第" + (p.number || 0) + "問");
      var head = el("div", "cca-quiz__head");
      head.appendChild(el("p", "cca-card__label", "研修クイズ"));
      head.appendChild(progressLine(p));
      card.appendChild(head);
      card.appendChild(el("p", "cca-quiz__prompt", p.prompt));
      var options = Array.isArray(p.options) ? p.options : [];
      var group = el("div", "cca-quiz__options");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "答えを選ぶ");
      options.forEach(function (o, i) {
        var btn = el("button", "cca-quiz__option");
        btn.type = "button";
        btn.appendChild(el("span", "cca-quiz__num", String(i + 1)));
        btn.appendChild(el("span", "cca-quiz__text", o));
        btn.setAttribute("data-option", String(i + 1));
        if (entry.answered) btn.disabled = true;
        btn.addEventListener("click", function () {
          // Only the latest question can be answered (the server waits for that one).
          var row = card.closest("[data-entry]");
          var cards = row && row.parentNode ? row.parentNode.querySelectorAll(".cca-card--quiz") : [];
          if (cards.length && cards[cards.length - 1] !== card) return;
          entry.answered = true;
          cc.saveHistory();
          Array.prototype.forEach.call(group.querySelectorAll("button"), function (b) {
            b.disabled = true;
          });
          cc.sendUser(String(i + 1), (i + 1) + ". " + o);
        });
        group.appendChild(btn);
      });
      card.appendChild(group);
      return card;
    }

    function renderQuizFeedback(p) {
      var ok = p.correct === true;
      var card = el("article", "cca-card cca-card--feedback " + (ok ? "cca-quiz--correct" : "cca-quiz--incorrect"));
      card.setAttribute("aria-label", ok ? "正解" : "不正解");
      var head = el("div", "cca-quiz__head");
      head.appendChild(el("p", "cca-quiz__verdict", ok ? "○ 正解" : "× 不正解"));
      head.appendChild(progressLine(p));
      card.appendChild(head);
      card.appendChild(el("h3", "cca-card__term", p.term));
      card.appendChild(el("p", "cca-card__def", p.definition));
      var src = el("p", "cca-card__source");
      src.appendChild(el("span", "cca-card__key", "出典"));
      src.appendChild(el("span", null, p.source));
      card.appendChild(src);
      card.appendChild(el("p", "cca-quiz__score", "ここまで " + (p.score || 0) + " 問正解"));
      return card;
    }

    function renderQuizSummary(p) {
      var card = el("article", "cca-card cca-card--summary");
      card.setAttribute("aria-label", "研修クイズの結果");
      card.appendChild(el("p", "cca-card__label", "研修クイズの結果"));
      card.appendChild(el("p", "cca-quiz__result", (p.score || 0) + " / " + (p.total || 0) + " 問正解"));
      var weak = Array.isArray(p.weak_terms) ? p.weak_terms : [];
      if (weak.length) {
        var row = el("div", "cca-card__related");
        row.appendChild(el("span", "cca-card__key", "苦手な用語"));
        weak.forEach(function (t) {
          row.appendChild(termChip(String(t)));
        });
        card.appendChild(row);
      }
      return card;
    }

    function renderCategoryList(p) {
      var card = el("article", "cca-card cca-card--categories");
      card.setAttribute("aria-label", "カテゴリ一覧");
      card.appendChild(el("p", "cca-card__label", "カテゴリ一覧"));
      var dl = el("dl", "cca-categories");
      (Array.isArray(p.categories) ? p.categories : []).forEach(function (c) {
        dl.appendChild(el("dt", "cca-categories__name", c.name));
        dl.appendChild(el("dd", "cca-categories__terms", (Array.isArray(c.terms) ? c.terms : []).join("、")));
      });
      card.appendChild(dl);
      return card;
    }

    function renderWeakTerms(p) {
      var card = el("article", "cca-card cca-card--weak");
      card.setAttribute("aria-label", "苦手な用語");
      card.appendChild(el("p", "cca-card__label", "苦手な用語"));
      var terms = Array.isArray(p.terms) ? p.terms : [];
      if (!terms.length) card.appendChild(el("p", "cca-card__text", p.text));
      var ul = el("ul", "cca-weak");
      terms.forEach(function (t) {
        var li = el("li", "cca-weak__item");
        li.appendChild(termChip(String(t.term)));
        li.appendChild(el("span", "cca-weak__count", "まちがい " + (t.wrong || 0) + " 回"));
        ul.appendChild(li);
      });
      if (terms.length) card.appendChild(ul);
      return card;
    }

    // A message typed by a person: their name and initial above a bubble in
    // another colour than the bot's, so the customer sees who is writing.
    function renderAgentMessage(p) {
      var name = cc.agentName(p);
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
      } else if (kind === "fallback" && Array.isArray(p.candidates)) {
        // "did you mean": the closest FAQs and terms the router offers (issue 17)
        suggestions = p.candidates.map(function (c) {
          var title = String(c.title || "");
          return { title: title, payload: c.kind === "term" ? String(c.term) + "とは?" : title + "について教えて" };
        });
      } else if (kind === "offer_human" && !(entry.buttons && entry.buttons.length)) {
        own = YES_NO.slice();
      } else if (kind === "quiz_question") {
        return []; // the card has its own answer buttons
      }
      return [
        { label: "もしかして", buttons: suggestions.filter(fresh) },
        { label: null, buttons: own.concat(cc.cleanButtons(entry.buttons)).filter(fresh) },
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
          cc.sendUser(b.payload, b.title);
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
          cc.saveHistory();
          while (bar.firstChild) bar.removeChild(bar.firstChild);
          bar.appendChild(thanks);
          cc.emitMessage(f.intent); // an intent, not something the user said: no bubble
        });
        bar.appendChild(b);
      });
      return bar;
    }

    cc.renderEntry = renderEntry;
  };
})();
