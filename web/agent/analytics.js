/*
 * Analytics dashboard for supervisors: reads /agent/api/analytics for a period and a
 * channel, shows the KPIs (definition on hover / focus), the charts (Chart.js, served
 * locally) and the tables. Every text from the server is set with textContent.
 */
(() => {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const WEEKDAYS = ["月", "火", "水", "木", "金", "土", "日"];
  const CHANNELS = { socketio: "ウェブチャット", rest: "REST", line: "LINE" };
  const SERIES = [
    ["answered_up", "回答(高評価)", "#2e7d32"],
    ["answered_no_rating", "回答(評価なし)", "#81c784"],
    ["answered_down", "回答(低評価)", "#f9a825"],
    ["unanswered", "未回答・対象外", "#c62828"],
    ["handoff", "有人対応依頼", "#3f51b5"],
  ];
  const charts = {};

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function isoDay(d) {
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  }

  function fmt(kpi) {
    if (kpi.value === null || kpi.value === undefined) return "—";
    if (kpi.unit === "rate") return `${(kpi.value * 100).toFixed(1)}%`;
    return Number(kpi.value).toLocaleString("ja-JP");
  }

  function seconds(v) {
    if (v === null || v === undefined) return "—";
    return v < 120 ? `${Math.round(v)}秒` : `${(v / 60).toFixed(1)}分`;
  }

  function query() {
    const p = new URLSearchParams({ from: $("from").value, to: $("to").value });
    if ($("channel").value) p.set("channel", $("channel").value);
    return p;
  }

  function table(node, header, rows, numeric) {
    clear(node);
    const head = el("tr");
    header.forEach((h, i) => head.appendChild(el("th", numeric && numeric[i] ? "num" : "", h)));
    node.appendChild(el("thead")).appendChild(head);
    const body = node.appendChild(el("tbody"));
    if (!rows.length) {
      const tr = body.appendChild(el("tr"));
      const td = tr.appendChild(el("td", "", "データがありません"));
      td.colSpan = header.length;
    }
    rows.forEach((r) => {
      const tr = body.appendChild(el("tr"));
      r.forEach((v, i) => tr.appendChild(el("td", numeric && numeric[i] ? "num" : "", v)));
    });
  }

  function renderKpis(kpis) {
    const box = $("kpis");
    clear(box);
    kpis.forEach((k, i) => {
      const card = el("div", "kpi");
      card.dataset.kpi = k.key;
      const label = el("div", "kpi__label");
      label.appendChild(el("span", "", k.label));
      const def = el("button", "kpi__def", "定義");
      def.type = "button";
      def.setAttribute("aria-describedby", `kpi-tip-${i}`);
      def.dataset.testid = `def-${k.key}`;
      label.appendChild(def);
      card.appendChild(label);
      const value = el("div", "kpi__value", fmt(k));
      value.dataset.testid = `kpi-${k.key}`;
      card.appendChild(value);
      if (k.denominator !== null && k.denominator !== undefined) {
        card.appendChild(el("div", "kpi__parts", `${k.numerator} / ${k.denominator}`));
      }
      const tip = el("div", "kpi__tip", `${k.label} = ${k.formula}`);
      tip.id = `kpi-tip-${i}`;
      tip.setAttribute("role", "tooltip");
      tip.dataset.testid = `tip-${k.key}`;
      card.appendChild(tip);
      box.appendChild(card);
    });
  }

  function chart(id, config) {
    if (!window.Chart) return null;
    if (charts[id]) charts[id].destroy();
    charts[id] = new window.Chart($(id), config);
    return charts[id];
  }

  function renderDaily(daily) {
    const labels = daily.map((d) => d.day.slice(5).replace("-", "/"));
    chart("chart-daily", {
      type: "bar",
      data: {
        labels,
        datasets: SERIES.map(([key, label, color]) => ({
          label, backgroundColor: color, data: daily.map((d) => d[key]), stack: key === "handoff" ? "h" : "q",
        })),
      },
      options: {
        animation: false, maintainAspectRatio: false,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom" } },
      },
    });
    table($("daily"), ["日付", "メッセージ", "質問", "会話"].concat(SERIES.map((s) => s[1])),
      daily.map((d) => [d.day, d.messages, d.questions, d.conversations].concat(SERIES.map((s) => d[s[0]]))),
      [false, true, true, true, true, true, true, true, true]);
  }

  function renderChannels(channels) {
    chart("chart-channels", {
      type: "doughnut",
      data: {
        labels: channels.map((c) => CHANNELS[c.channel] || c.channel),
        datasets: [{ data: channels.map((c) => c.messages),
          backgroundColor: ["#3f51b5", "#26a69a", "#ffb300", "#8d6e63"] }],
      },
      options: { animation: false, maintainAspectRatio: false, plugins: { legend: { position: "right" } } },
    });
    table($("channels"), ["チャネル", "メッセージ", "会話", "質問", "回答"],
      channels.map((c) => [CHANNELS[c.channel] || c.channel, c.messages, c.conversations, c.questions, c.answered]),
      [false, true, true, true, true]);
  }

  function renderHeat(heat) {
    const node = $("heatmap");
    clear(node);
    const max = Math.max(1, ...heat.flat());
    const head = el("tr");
    head.appendChild(el("th", "", ""));
    for (let h = 0; h < 24; h++) head.appendChild(el("th", "", h));
    node.appendChild(el("thead")).appendChild(head);
    const body = node.appendChild(el("tbody"));
    heat.forEach((row, wd) => {
      const tr = body.appendChild(el("tr"));
      tr.appendChild(el("th", "", WEEKDAYS[wd]));
      row.forEach((n, h) => {
        const td = tr.appendChild(el("td", "", n || ""));
        td.title = `${WEEKDAYS[wd]}曜 ${h}時台: ${n}件`;
        const a = n / max;
        td.style.backgroundColor = `rgba(39, 87, 184, ${0.08 + 0.85 * a})`; // CSSOM: allowed by the CSP
        td.style.color = a > 0.5 ? "#fff" : "#1d2330";
      });
    });
  }

  function render(r) {
    renderKpis(r.kpis);
    renderDaily(r.daily);
    renderChannels(r.channels);
    renderHeat(r.heatmap);
    table($("top-answers"), ["用語 / FAQ", "回答数", "高評価", "低評価"],
      r.top_answers.map((a) => [`${a.kind === "faq" ? "FAQ: " : ""}${a.name}`, a.count, a.up, a.down]),
      [false, true, true, true]);
    table($("top-unanswered"), ["質問(例)", "件数", "会話ID"],
      r.top_unanswered.map((u) => [u.example, u.count, u.conversation]), [false, true, false]);
    const ag = r.agents;
    table($("agents"), ["項目", "値"], [
      ["有人対応の依頼", r.handoff.requests], ["うち回答直後", r.handoff.after_answer],
      ["対応開始(クレーム)", ag.claims], ["待ち時間 p50 / p90", `${seconds(ag.wait_p50)} / ${seconds(ag.wait_p90)}`],
      ["初回返信 p50", seconds(ag.first_reply_p50)],
      ["対応時間 p50 / p90", `${seconds(ag.handle_p50)} / ${seconds(ag.handle_p90)}`],
    ].concat(ag.per_agent.map((a) => [`担当 ${a.agent}`, `${a.conversations}件`])), [false, true]);
    const tr = r.training;
    table($("training"), ["項目", "値"], [
      ["研修者", tr.trainees], ["解答数", tr.answers],
      ["正解率", tr.accuracy === null ? "—" : `${(tr.accuracy * 100).toFixed(1)}%`],
    ].concat(tr.hardest.map((h) => [`苦手: ${h.term}`, `${h.wrong} / ${h.asked}問`])), [false, true]);
    $("note").textContent = r.pending_conversations
      ? `判定待ち(最後のメッセージから24時間以内)の会話: ${r.pending_conversations}件` : "";
  }

  async function load() {
    const p = query();
    for (const t of ["kpis", "daily"]) {
      const q = new URLSearchParams(p);
      q.set("table", t);
      $(`csv-${t}`).href = `/agent/api/analytics/export.csv?${q}`;
    }
    $("error").hidden = true;
    document.body.dataset.ready = "loading";
    let res;
    try {
      // the staff pages' shared helper (staff-api.js): a 401 goes to the log-in page
      res = await window.StaffApi.request("GET", `/agent/api/analytics?${p}`);
    } catch (e) {
      if (e instanceof window.StaffApi.LoginRequired) return;
      $("error").textContent = "読み込めませんでした。ネットワークの状態を確認してください。";
      $("error").hidden = false;
      return;
    }
    const data = res.data;
    if (!res.ok) {
      const reason = res.status === 403 ? "このページはスーパーバイザーのみ利用できます。"
        : `期間の指定が正しくありません(${(data && data.reason) || res.status})。`;
      $("error").textContent = reason;
      $("error").hidden = false;
      document.body.dataset.ready = "error";
      return;
    }
    render(data);
    if (!window.Chart) $("note").textContent = "グラフのライブラリを読み込めませんでした(表は表示しています)。";
    document.body.dataset.ready = "true";
  }

  function start() {
    const params = new URLSearchParams(window.location.search);
    const today = new Date();
    const from = new Date(today.getTime() - 29 * 86400000);
    $("from").value = params.get("from") || isoDay(from);
    $("to").value = params.get("to") || isoDay(today);
    if (params.get("channel")) $("channel").value = params.get("channel");
    $("filter").addEventListener("submit", (e) => {
      e.preventDefault();
      const url = `${window.location.pathname}?${query()}`;
      window.history.replaceState(null, "", url);
      load();
    });
    load();
  }

  start();
})();
