/*
 * The unanswered inbox (docs/inbox.md): misses grouped by the matcher's key form,
 * with a fix through the content studio (alias, new term, FAQ question) or a
 * dismissal with a reason. Everything from the server is shown with textContent.
 */
(() => {
  "use strict";

  const { StaffApi } = window;
  const API = "/agent/api";
  const ROLE_NAMES = { agent: "エージェント", editor: "編集者", supervisor: "スーパーバイザー" };
  const REASONS = { unknown_term: "用語集にない", fallback: "理解できず", out_of_scope: "対象外",
    down: "低評価", handoff: "回答直後の有人依頼" };
  const STATUS_NAMES = { open: "未対応", resolved: "解決済み", dismissed: "対応不要" };
  const FIX_NAMES = { alias: "別名を追加", term: "用語を新規登録", faq: "FAQの質問例に追加" };
  const state = { status: "open", data: null };
  const $ = (id) => document.getElementById(id);

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function showError(message) {
    $("error").textContent = message || "";
    $("error").hidden = !message;
  }

  function notice(message) {
    $("notice").textContent = message || "";
    $("notice").hidden = !message;
  }

  // Requests: the staff pages' shared helper (staff-api.js, loaded first).
  StaffApi.configure({ onForbidden: () => showError("この画面は編集者・スーパーバイザーのみ使えます。") });

  function api(method, path, body) {
    return StaffApi.request(method, path, { body });
  }

  function when(iso) {
    if (!iso) return "-";
    const d = new Date(iso);
    return d.toLocaleString("ja-JP", { timeZone: "Asia/Tokyo", month: "numeric", day: "numeric",
      hour: "2-digit", minute: "2-digit" });
  }

  function input(name, value, label, testid, attrs) {
    const wrap = el("label", label);
    const field = el("input");
    field.name = name;
    field.value = value || "";
    field.maxLength = 200;
    if (testid) field.dataset.testid = testid;
    Object.assign(field, attrs || {});
    wrap.appendChild(field);
    return wrap;
  }

  function choice(name, values, selected, label, testid) {
    const wrap = el("label", label);
    const field = el("select");
    field.name = name;
    if (testid) field.dataset.testid = testid;
    for (const [value, text] of values) {
      const option = el("option", text);
      option.value = value;
      if (value === selected) option.selected = true;
      field.appendChild(option);
    }
    wrap.appendChild(field);
    return wrap;
  }

  function problemsOf(res) {
    const d = res.data || {};
    if (Array.isArray(d.problems) && d.problems.length) return d.problems.map((p) => p.message || "").join(" / ");
    if (d.error === "conflict") return "他の人が先に変更しました。もう一度開き直してください。";
    if (d.error === "not_found") return "項目または用語・FAQが見つかりません。一覧を更新してください。";
    return `保存できませんでした(${res.status})`;
  }

  async function send(item, path, body, box, done) {
    box.textContent = "";
    const res = await api("POST", `${API}/inbox/${path}`, { key: item.key, ...body });
    if (!res.ok) {
      box.textContent = problemsOf(res);
      return;
    }
    notice(done);
    await load();
  }

  function form(item, kind, fields, button, submit) {
    const fs = el("fieldset");
    fs.dataset.fix = kind;
    fs.appendChild(el("legend", FIX_NAMES[kind] || "対応不要にする"));
    for (const f of fields) fs.appendChild(f);
    const btn = el("button", button, "btn btn--primary");
    btn.type = "button";
    btn.dataset.testid = `do-${kind}`;
    btn.addEventListener("click", () => submit(fs));
    fs.appendChild(btn);
    return fs;
  }

  function val(fs, name) {
    const f = fs.querySelector(`[name="${name}"]`);
    return f ? f.value : "";
  }

  function actions(item) {
    const box = el("div", null, "inbox__actions");
    const problems = el("p", null, "inbox__problems");
    problems.setAttribute("role", "alert");
    problems.dataset.testid = "problems";
    const s = item.suggest || {};
    const alias = (s.alias_of || []).map((h) => [h, h]);
    const aliasFields = [
      alias.length ? choice("headword", alias, alias[0][0], "用語(もしかして)", "f-headword")
        : input("headword", "", "用語(見出し語)", "f-headword"),
      input("alias", item.label, "別名", "f-alias"),
    ];
    box.appendChild(form(item, "alias", aliasFields, "別名として追加", (fs) =>
      send(item, "fix", { action: "alias", headword: val(fs, "headword"), alias: val(fs, "alias") }, problems,
        `「${val(fs, "alias")}」を「${val(fs, "headword")}」の別名に追加しました。`)));
    const termFields = [
      input("term", s.headword || item.label, "見出し語", "f-term"),
      input("reading", "", "読み(かな)", "f-reading"),
      input("category", "", "カテゴリ", "f-category"),
      input("definition", "", "定義", "f-definition", { size: 40 }),
    ];
    box.appendChild(form(item, "term", termFields, "新しい用語として登録", (fs) =>
      send(item, "fix", { action: "term", term: { term: val(fs, "term"), reading: val(fs, "reading"),
        category: val(fs, "category"), aliases: [], related: [],
        definitions: [{ text: val(fs, "definition"), source: "editor", note: "未回答から登録" }] } }, problems,
        `「${val(fs, "term")}」を登録しました。`)));
    const faqs = (state.data.faqs || []).map((f) => [f.id, f.title]);
    const faqFields = [
      choice("faq_id", faqs, s.faq_id || "", "FAQ", "f-faq"),
      input("question", s.question || item.label, "質問例", "f-question", { size: 30 }),
    ];
    box.appendChild(form(item, "faq", faqFields, "FAQの質問例に追加", (fs) =>
      send(item, "fix", { action: "faq", faq_id: val(fs, "faq_id"), question: val(fs, "question") }, problems,
        "FAQに質問例を追加しました。")));
    box.appendChild(form(item, "dismiss", [input("reason", "", "理由", "f-reason")], "対応不要にする", (fs) =>
      send(item, "dismiss", { reason: val(fs, "reason") }, problems, "対応不要にしました。")));
    box.appendChild(problems);
    return box;
  }

  async function showTranscript(conversation) {
    const res = await api("GET", `${API}/inbox/transcript?conversation=${encodeURIComponent(conversation)}`);
    const list = $("transcript");
    clear(list);
    $("transcript-id").textContent = conversation;
    $("transcript-pane").hidden = false;
    if (!res.ok) {
      list.appendChild(el("li", "会話を読み込めませんでした。"));
      return;
    }
    for (const turn of res.data.transcript) {
      const li = el("li");
      li.dataset.role = turn.role === "bot" ? "bot" : "user";
      li.appendChild(el("span", turn.text));
      list.appendChild(li);
    }
  }

  function decisionText(item) {
    const d = item.decision;
    if (item.status === "resolved" && item.by === "answered") return "その後の質問には回答済み";
    if (!d) return item.reopened ? "対応後に再発" : "";
    const who = `${d.actor}・${when(d.at)}`;
    if (d.status === "dismissed") return `対応不要: ${d.reason || ""}(${who})`;
    return `${FIX_NAMES[d.action] || "対応"}: ${d.target || ""}(${who})`;
  }

  function render() {
    const list = $("items");
    clear(list);
    for (const [status, n] of Object.entries(state.data.counts)) {
      const span = document.querySelector(`[data-count="${status}"]`);
      if (span) span.textContent = String(n);
    }
    if (!state.data.items.length) list.appendChild(el("li", "該当する項目はありません。", "inbox__item"));
    for (const item of state.data.items) {
      const li = el("li", null, "inbox__item");
      li.dataset.testid = "inbox-item";
      li.dataset.key = item.key;
      li.dataset.status = item.status;
      const head = el("div", null, "inbox__head");
      head.appendChild(el("span", item.label, "inbox__label"));
      const count = el("span", `${item.count}件`, "inbox__count");
      count.dataset.testid = "count";
      head.appendChild(count);
      const badge = el("span", STATUS_NAMES[item.status], "inbox__status");
      badge.dataset.status = item.status;
      badge.dataset.testid = "status";
      head.appendChild(badge);
      const reasons = Object.entries(item.reasons).map(([r, n]) => `${REASONS[r] || r} ${n}`).join("、");
      head.appendChild(el("span", reasons, "inbox__meta"));
      li.appendChild(head);
      const meta = el("div", null, "inbox__meta");
      meta.appendChild(el("span", `初回 ${when(item.first_seen)} / 最終 ${when(item.last_seen)} / チャネル ${item.channel}`));
      if (item.question) meta.appendChild(el("span", ` / 例: ${item.question}`));
      const link = el("button", "会話を見る", "btn btn--ghost");
      link.type = "button";
      link.dataset.testid = "show-transcript";
      link.addEventListener("click", () => showTranscript(item.conversation));
      meta.appendChild(link);
      li.appendChild(meta);
      const decided = decisionText(item);
      if (decided) li.appendChild(el("div", decided, "inbox__meta"));
      if (item.status === "open") li.appendChild(actions(item));
      else {
        const reopen = el("button", "未対応に戻す", "btn");
        reopen.type = "button";
        reopen.addEventListener("click", async () => {
          await api("POST", `${API}/inbox/reopen`, { key: item.key });
          await load();
        });
        if (item.decision) li.appendChild(reopen);
      }
      list.appendChild(li);
    }
  }

  async function load() {
    const res = await api("GET", `${API}/inbox?status=${state.status}`);
    if (!res.ok) {
      if (res.status !== 403) showError("一覧を読み込めませんでした。");
      return;
    }
    showError("");
    state.data = res.data;
    render();
    document.body.dataset.ready = "true";
  }

  async function start() {
    const me = await api("GET", `${API}/me`);
    if (!me.ok) return;
    StaffApi.setCsrf(me.data.csrf_token);
    $("me").textContent = `${me.data.display_name}(${ROLE_NAMES[me.data.role] || me.data.role})`;
    for (const tab of document.querySelectorAll("[data-status]")) {
      tab.addEventListener("click", () => {
        state.status = tab.dataset.status;
        for (const t of document.querySelectorAll("[data-status]")) {
          t.setAttribute("aria-selected", String(t === tab));
        }
        notice("");
        load();
      });
    }
    $("transcript-close").addEventListener("click", () => { $("transcript-pane").hidden = true; });
    await load();
  }

  start();
})();
