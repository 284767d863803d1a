/*
 * Agent console login (docs/live-chat.md): POST /agent/login with JSON
 * {username, password} and the login CSRF token from <meta name="csrf-token">.
 * 200 → /agent/, 401 → wrong name or password, 429 → wait retry_after seconds.
 */
(() => {
  "use strict";

  const form = document.getElementById("login-form");
  const username = document.getElementById("login-username");
  const password = document.getElementById("login-password");
  const submit = document.getElementById("login-submit");
  const error = document.getElementById("login-error");
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.getAttribute("content") || "" : "";

  let busy = false;
  let lockedUntil = 0;
  let lockTimer = null;

  function showError(text) {
    error.textContent = text;
    error.hidden = !text;
  }

  function setBusy(on) {
    busy = on;
    submit.disabled = on || Date.now() < lockedUntil;
    submit.textContent = on ? "ログイン中…" : "ログイン";
  }

  // 429: the button stays disabled and the message counts down.
  function lockFor(seconds) {
    lockedUntil = Date.now() + seconds * 1000;
    clearInterval(lockTimer);
    const tick = () => {
      const left = Math.ceil((lockedUntil - Date.now()) / 1000);
      if (left <= 0) {
        clearInterval(lockTimer);
        lockedUntil = 0;
        submit.disabled = busy;
        showError("もう一度ログインできます。");
        return;
      }
      submit.disabled = true;
      showError(`ログインの試行回数が多すぎます。${left}秒後にもう一度お試しください。`);
    };
    tick();
    lockTimer = setInterval(tick, 1000);
  }

  async function readJson(res) {
    try {
      return await res.json();
    } catch (e) {
      return null;
    }
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (busy || Date.now() < lockedUntil) return;
    const name = username.value.trim();
    if (!name || !password.value) {
      showError("ユーザー名とパスワードを入力してください。");
      (name ? password : username).focus();
      return;
    }
    showError("");
    setBusy(true);
    let res;
    try {
      res = await fetch("/agent/login", {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRF-Token": csrf,
        },
        body: JSON.stringify({ username: name, password: password.value }),
      });
    } catch (e) {
      setBusy(false);
      showError("サーバーに接続できません。ネットワークを確認してもう一度お試しください。");
      return;
    }
    const data = await readJson(res);
    if (res.ok) {
      submit.textContent = "ログインしました";
      window.location.assign("/agent/");
      return;
    }
    setBusy(false);
    if (res.status === 401) {
      showError("ユーザー名またはパスワードが違います。");
      password.value = "";
      password.focus();
    } else if (res.status === 429) {
      const fromBody = data && Number(data.retry_after);
      const fromHeader = Number(res.headers.get("Retry-After"));
      const seconds = Math.max(1, Math.ceil(fromBody > 0 ? fromBody : fromHeader > 0 ? fromHeader : 60));
      lockFor(seconds);
    } else if (res.status === 403) {
      showError("ページの有効期限が切れました。ページを再読み込みしてからログインしてください。");
    } else {
      showError(`ログインできませんでした(エラー ${res.status})。しばらくしてからお試しください。`);
    }
  });

  username.focus();
})();
