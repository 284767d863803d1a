/*
 * Content studio (docs/content-studio.md): list, edit, preview, publish, history,
 * restore, import / export. Everything from the server goes into the page with
 * textContent: no innerHTML anywhere.
 */
(() => {
  "use strict";

  const { StaffApi } = window;
  const API = "/agent/api";
  const ROLE_NAMES = { agent: "エージェント", editor: "編集者", supervisor: "スーパーバイザー" };
  const ACTIONS = { seed: "初期データ", create: "作成", update: "更新", disable: "無効化", enable: "有効化",
    restore: "復元", import: "取り込み" };
  const KIND_NAMES = { definition: "定義", unknown_term: "用語なし", faq: "FAQ", comparison: "比較",
    fallback: "回答なし", out_of_scope: "対象外", handoff: "引き継ぎ" };

  const state = { me: null, tab: "term", data: null, selected: null, isNew: false,
    search: "", lastRegressions: false, importData: null };
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
    const box = $("error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  // Requests: the staff pages' shared helper (staff-api.js). `data` is never null here
  // (an empty or non-JSON answer reads as {}), so the callers below test fields only.
  StaffApi.configure({ onForbidden: () => showError("この画面は編集者・スーパーバイザーのみ使えます。") });

  async function api(method, path, body, raw) {
    const r = await StaffApi.request(method, path, { body, raw });
    return { status: r.status, ok: r.ok, data: r.data || {} };
  }

  // ------------------------------------------------------------------ loading

  async function load(keepSelection) {
    const r = await api("GET", `${API}/content`);
    if (r.status !== 200) return;
    state.data = r.data;
    $("revision").textContent = `版 ${r.data.revision}`;
    const cats = new Set(r.data.terms.map((t) => t.data.category));
    const list = $("categories");
    clear(list);
    cats.forEach((c) => { const o = document.createElement("option"); o.value = c; list.appendChild(o); });
    renderList();
    renderRecent();
    if (keepSelection && state.selected) {
      const fresh = items().find((i) => i.id === state.selected.id);
      if (fresh) await select(fresh);
    }
  }

  function items() {
    if (!state.data) return [];
    return state.tab === "faq" ? state.data.faqs : state.data.terms;
  }

  function matches(item, q) {
    if (!q) return true;
    const d = item.data;
    const hay = [item.key, d.reading, d.title, ...(d.aliases || []), ...(d.questions || [])].join(" ").toLowerCase();
    return hay.includes(q.toLowerCase());
  }

  function renderList() {
    const ul = $("items");
    clear(ul);
    items().filter((i) => matches(i, state.search)).forEach((item) => {
      const li = el("li");
      const b = el("button", state.tab === "faq" ? `${item.data.title}(${item.key})` : item.key);
      b.type = "button";
      if (!item.enabled) b.classList.add("off");
      if (state.selected && state.selected.id === item.id) b.setAttribute("aria-current", "true");
      b.dataset.key = item.key;
      b.addEventListener("click", () => select(item));
      li.appendChild(b);
      ul.appendChild(li);
    });
  }

  function renderRecent() {
    const ol = $("recent");
    clear(ol);
    (state.data.recent || []).forEach((r) => {
      ol.appendChild(el("li", `${r.at} ${r.actor || "-"} ${ACTIONS[r.action] || r.action}: ${r.kind === "faq" ? "FAQ" : "用語"}「${r.key}」(版 ${r.id})`));
    });
  }

  // ------------------------------------------------------------------ editor

  function definitionRow(d) {
    const box = el("div", null, "studio__def");
    const text = document.createElement("textarea");
    text.rows = 3;
    text.value = d.text || "";
    text.dataset.role = "text";
    text.setAttribute("aria-label", "定義");
    text.dataset.testid = "f-definition";
    text.setAttribute("data-testid", "f-definition");
    const source = document.createElement("input");
    source.value = d.source || `editor:${state.me.username}`;
    source.dataset.role = "source";
    source.setAttribute("aria-label", "出典");
    const note = document.createElement("input");
    note.value = d.note || "";
    note.dataset.role = "note";
    note.placeholder = "メモ(任意: 確認した資料など)";
    note.setAttribute("aria-label", "メモ");
    const remove = el("button", "この定義を削除", "btn");
    remove.type = "button";
    remove.addEventListener("click", () => box.remove());
    const l1 = el("label", "定義"); l1.appendChild(text);
    const l2 = el("label", "出典(資料のファイル名、または編集者)"); l2.appendChild(source);
    const l3 = el("label", "メモ"); l3.appendChild(note);
    box.append(l1, l2, l3, remove);
    return box;
  }

  function fillForm(kind, data) {
    const form = $(kind === "faq" ? "faq-form" : "term-form");
    $("term-form").hidden = kind === "faq";
    $("faq-form").hidden = kind !== "faq";
    if (kind === "faq") {
      for (const f of ["id", "title", "answer", "source", "url", "as_of"]) form.elements[f].value = data[f] || "";
      form.elements.questions.value = (data.questions || []).join("\n");
      form.elements.id.readOnly = !state.isNew;
    } else {
      for (const f of ["term", "reading", "category"]) form.elements[f].value = data[f] || "";
      form.elements.aliases.value = (data.aliases || []).join("|");
      form.elements.related.value = (data.related || []).join("|");
      const defs = $("definitions");
      clear(defs);
      (data.definitions && data.definitions.length ? data.definitions : [{}]).forEach((d) => defs.appendChild(definitionRow(d)));
    }
  }

  function readForm() {
    if (state.tab === "faq") {
      const f = $("faq-form").elements;
      return { id: f.id.value, title: f.title.value, answer: f.answer.value, source: f.source.value || `editor:${state.me.username}`,
        url: f.url.value, as_of: f.as_of.value, questions: f.questions.value.split("\n") };
    }
    const f = $("term-form").elements;
    const defs = [...$("definitions").querySelectorAll(".studio__def")].map((box) => ({
      text: box.querySelector("[data-role=text]").value,
      source: box.querySelector("[data-role=source]").value,
      note: box.querySelector("[data-role=note]").value,
    }));
    return { term: f.term.value, reading: f.reading.value, aliases: f.aliases.value, category: f.category.value,
      related: f.related.value, definitions: defs };
  }

  function resetResults() {
    clear($("problems"));
    clear($("report"));
    $("outcome").textContent = "";
    state.lastRegressions = false;
  }

  async function select(item) {
    state.selected = item;
    state.isNew = false;
    $("editor-pane").hidden = false;
    $("editor-title").textContent = state.tab === "faq" ? `FAQ: ${item.data.title}` : `用語: ${item.key}`;
    fillForm(state.tab, item.data);
    const t = $("toggle-enabled");
    t.hidden = false;
    t.textContent = item.enabled ? "無効にする" : "有効にする";
    resetResults();
    renderList();
    const r = await api("GET", `${API}/content/items/${item.id}`);
    renderHistory(r.data.history || []);
  }

  function startNew() {
    state.selected = null;
    state.isNew = true;
    $("editor-pane").hidden = false;
    $("editor-title").textContent = state.tab === "faq" ? "新しいFAQ" : "新しい用語";
    fillForm(state.tab, {});
    $("toggle-enabled").hidden = true;
    clear($("history"));
    resetResults();
  }

  function renderHistory(history) {
    const ol = $("history");
    clear(ol);
    history.forEach((h, n) => {
      const li = el("li", `版 ${h.id} ${h.at} ${h.actor || "-"} ${ACTIONS[h.action] || h.action}`);
      if (h.after && h.before) {
        const changed = Object.keys(h.after).filter((k) => JSON.stringify(h.after[k]) !== JSON.stringify(h.before[k]));
        if (changed.length) li.appendChild(el("span", `(変更: ${changed.join(", ")})`));
      }
      if (n > 0) {
        const b = el("button", "この版に戻す", "btn");
        b.type = "button";
        b.dataset.testid = "restore";
        b.addEventListener("click", () => restore(h.id));
        li.appendChild(b);
      }
      ol.appendChild(li);
    });
  }

  function change(extra) {
    const c = { kind: state.tab === "faq" ? "faq" : "term", ...extra };
    if (state.selected) {
      c.id = state.selected.id;
      c.expected = state.selected.revision;
    }
    return c;
  }

  function questions() {
    return $("preview-questions").value.split("\n").filter((q) => q.trim());
  }

  function showProblems(problems) {
    const ul = $("problems");
    clear(ul);
    (problems || []).forEach((p) => ul.appendChild(el("li", p.message)));
  }

  function answerCell(a) {
    const td = el("td");
    td.appendChild(el("strong", `${KIND_NAMES[a.kind] || a.kind} `));
    td.appendChild(el("span", a.text));
    return td;
  }

  function table(title, rows, cls) {
    const box = $("report");
    box.appendChild(el("h4", title));
    const t = el("table");
    const head = el("tr");
    ["質問", "いまの回答", "新しい回答"].forEach((h) => head.appendChild(el("th", h)));
    t.appendChild(head);
    rows.forEach((r) => {
      const tr = el("tr", null, cls || "");
      tr.appendChild(el("td", r.text));
      tr.appendChild(answerCell(r.old));
      tr.appendChild(answerCell(r.new));
      t.appendChild(tr);
    });
    box.appendChild(t);
  }

  function showReport(report) {
    clear($("report"));
    if (!report) return;
    if (report.preview && report.preview.length) table("プレビュー", report.preview);
    if (report.total > report.preview.length) {
      const c = report.counts;
      $("report").appendChild(el("p", `すべてテスト: ${report.total}問(${report.seconds}秒) — 悪化 ${c.regressions}件、改善 ${c.fixed}件、回答の変化 ${c.changed}件`));
      if (report.regressions.length) table("悪化する回答(以前は正しかった)", report.regressions, "bad");
      if (report.fixed.length) table("改善する回答", report.fixed);
      if (report.changed.length) table("回答が変わる質問", report.changed);
    }
  }

  async function previewDraft(full) {
    resetResults();
    const r = await api("POST", `${API}/content/preview`, { changes: [change({ data: readForm() })], questions: questions(), test_all: full });
    if (r.status !== 200) return showError("プレビューできませんでした。");
    showProblems(r.data.problems);
    showReport(r.data.test_all);
    $("outcome").textContent = r.data.problems.length ? "直す必要がある項目があります。" : "プレビューです(まだ公開していません)。";
  }

  async function send(changes, confirm) {
    resetResults();
    $("outcome").textContent = "すべての質問でテストしています…";
    const r = await api("POST", `${API}/content/publish`, { changes, questions: questions(), confirm: !!confirm });
    handlePublish(r, changes);
  }

  function handlePublish(r, changes) {
    const out = $("outcome");
    if (r.status === 200) {
      const message = `公開しました(版 ${r.data.revision})。数秒ですべてのサーバーが新しい内容で答えます。`;
      const wasNew = state.isNew;
      load(true).then(async () => {
        if (wasNew && changes.length) {
          const key = changes[0].data && (changes[0].data.term || changes[0].data.id);
          const made = items().find((i) => i.key === key);
          if (made) await select(made);
        }
        $("outcome").textContent = message;
        showReport(r.data.test_all);
      });
      return;
    }
    const d = r.data;
    if (d.error === "invalid") {
      out.textContent = "公開できません。次の点を直してください。";
      showProblems(d.problems);
    } else if (d.error === "conflict") {
      out.textContent = `ほかの人が先に保存しました(版 ${d.current.revision}、${d.current.updated_by})。新しい内容を読み込みました。あなたの変更は反映されていません。`;
      state.selected = d.current;
      fillForm(state.tab, d.current.data);
    } else if (d.error === "regressions") {
      showReport(d.test_all);
      if (state.me.role === "supervisor") {
        out.textContent = "以前は正しく答えていた質問の回答が変わります。内容を確認して、よければ「確認して公開」を押してください。";
        const b = el("button", "確認して公開", "btn btn--danger");
        b.type = "button";
        b.dataset.testid = "confirm-publish";
        b.addEventListener("click", () => send(changes, true));
        out.appendChild(b);
      } else {
        out.textContent = "以前は正しく答えていた質問の回答が変わるため、公開できません。スーパーバイザーに確認を依頼してください。";
      }
    } else {
      out.textContent = `公開できませんでした(${d.error || r.status})。`;
    }
  }

  async function restore(revision) {
    resetResults();
    const r = await api("POST", `${API}/content/restore`, { revision, expected: state.selected ? state.selected.revision : undefined });
    handlePublish(r, []);
  }

  // ------------------------------------------------------------------ import

  const PHASES = { queued: "待機中", reading: "ファイルを読んで確認しています", testing: "すべての質問でテストしています",
    comparing: "回答を比べています", applying: "書き込んでいます", reloading: "反映しています", done: "完了" };

  function sleep(ms) {
    return new Promise((resolve) => window.setTimeout(resolve, ms));
  }

  function showJob(job) {
    const bar = $("import-progress");
    const p = job.progress || {};
    $("import-job").hidden = false;
    if (p.total) {
      bar.max = p.total;
      bar.value = Math.min(p.done, p.total);
    } else {
      bar.removeAttribute("value"); // indeterminate while the phase has no count
    }
    const count = p.total ? ` ${p.done.toLocaleString("ja-JP")} / ${p.total.toLocaleString("ja-JP")}` : "";
    $("import-phase").textContent = `${PHASES[job.phase] || job.phase}${count}`;
  }

  // A large import runs as a job on the server: poll it until it is done, showing its progress;
  // then its result is what the call used to answer.
  async function followJob(start) {
    let job = start.data.job;
    const url = `${API}/content/jobs/${encodeURIComponent(job.id)}`;
    showJob(job);
    while (job.status === "running") {
      await sleep(500);
      const r = await api("GET", url);
      if (r.status !== 200) return { status: r.status, data: r.data };
      job = r.data;
      showJob(job);
    }
    $("import-job").hidden = true;
    return { status: job.http_status, data: job.result || {} };
  }

  async function importFile(apply, confirm) {
    const file = $("import-file").files[0];
    const box = $("import-result");
    clear(box);
    if (!file) return box.appendChild(el("p", "ファイルを選んでください。"));
    const fmt = file.name.toLowerCase().endsWith(".xlsx") ? "xlsx" : "csv";
    const kind = $("import-kind").value;
    const buf = await file.arrayBuffer();
    box.appendChild(el("p", apply ? "取り込んでいます(すべての質問でテストします)…" : "確認しています…"));
    $("import-apply").disabled = true;
    $("import-check").disabled = true;
    let r;
    try {
      r = await api("POST", `${API}/content/import?kind=${kind}&format=${fmt}${apply ? "&apply=1" : ""}${confirm ? "&confirm=1" : ""}`, undefined, buf);
      if (r.status === 202 && r.data.job) r = await followJob(r);
    } finally {
      $("import-check").disabled = false;
      $("import-job").hidden = true;
    }
    clear(box);
    const plan = r.data.plan;
    if (apply && r.status === 200 && r.data.revision) {
      box.appendChild(el("p", `取り込みました(版 ${r.data.revision})。`));
      $("import-apply").disabled = true;
      return load(false);
    }
    if (!plan) {
      if (r.data.error === "regressions") {
        box.appendChild(el("p", `以前は正しく答えていた質問 ${r.data.test_all.counts.regressions}件の回答が変わります。`));
        const ul = el("ul");
        r.data.test_all.regressions.forEach((x) => ul.appendChild(el("li", `${x.text}: ${x.old.outcome} → ${x.new.outcome}`)));
        box.appendChild(ul);
        if (state.me.role === "supervisor") {
          const b = el("button", "確認して取り込む", "btn btn--danger");
          b.type = "button";
          b.addEventListener("click", () => importFile(true, true));
          box.appendChild(b);
        } else {
          box.appendChild(el("p", "取り込むにはスーパーバイザーの確認が必要です。"));
        }
      } else if (r.data.message) box.appendChild(el("p", r.data.message));
      else box.appendChild(el("p", `取り込めませんでした(${r.data.error || r.status})。`));
      return;
    }
    const c = plan.counts;
    box.appendChild(el("p", `${plan.rows}行: 追加 ${c.added}、変更 ${c.changed}、変更なし ${c.unchanged}、エラー ${c.errors}`));
    const ul = el("ul");
    plan.errors.forEach((e) => ul.appendChild(el("li", `${e.row ? `${e.row}行目: ` : ""}${e.message}`)));
    plan.added.forEach((a) => ul.appendChild(el("li", `${a.row}行目: 追加「${a.key}」`)));
    plan.changed.forEach((a) => ul.appendChild(el("li", `${a.row}行目: 変更「${a.key}」(${a.fields.join(", ")})`)));
    box.appendChild(ul);
    $("import-apply").disabled = !!c.errors || !(c.added + c.changed);
    if (c.errors) box.appendChild(el("p", "エラーがあるため取り込めません。ファイルを直してもう一度確認してください。"));
  }

  // ------------------------------------------------------------------ wiring

  function setTab(tab) {
    state.tab = tab;
    document.querySelectorAll("[data-tab]").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === tab)));
    const editing = tab === "term" || tab === "faq";
    $("list-pane").hidden = !editing;
    $("editor-pane").hidden = true;
    $("transfer-pane").hidden = tab !== "transfer";
    $("recent-pane").hidden = tab !== "recent";
    state.selected = null;
    if (editing) renderList();
  }

  async function init() {
    const me = await api("GET", `${API}/me`);
    state.me = me.data;
    StaffApi.setCsrf(me.data.csrf_token);
    $("me").textContent = `${me.data.display_name}(${ROLE_NAMES[me.data.role] || me.data.role})`;
    document.querySelectorAll("[data-tab]").forEach((b) => b.addEventListener("click", () => setTab(b.dataset.tab)));
    $("search").addEventListener("input", (e) => { state.search = e.target.value; renderList(); });
    $("new-item").addEventListener("click", startNew);
    $("add-definition").addEventListener("click", () => $("definitions").appendChild(definitionRow({})));
    $("preview").addEventListener("click", () => previewDraft(false));
    $("test-all").addEventListener("click", () => previewDraft(true));
    $("publish").addEventListener("click", () => send([change({ data: readForm() })]));
    $("toggle-enabled").addEventListener("click", () => send([change({ enabled: !state.selected.enabled })]));
    $("import-check").addEventListener("click", () => importFile(false, false));
    $("import-apply").addEventListener("click", () => importFile(true, false));
    $("import-file").addEventListener("change", () => { $("import-apply").disabled = true; clear($("import-result")); });
    await load(false);
    document.body.dataset.ready = "true";
  }

  init().catch((e) => showError(`読み込めませんでした: ${e.message}`));
})();
