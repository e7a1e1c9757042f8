// The labeling page: one text at a time, keyboard first. No framework, no network beyond this server.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("answer-form");
  const boxes = Array.from(document.querySelectorAll('input[name="label"]'));
  // epoch: counts the starts and ends of this page's answers and changes. A state asked for in one epoch and
  // received in another may predate an answer (a slow server, a slow network): it is dropped, never shown.
  // notice: what the person's own last action did ("Changed the answer to text m5."), shown before the server's
  // message until the next answer or saved change, so that the state that follows the action does not hide it.
  const page = { text: null, shownAt: 0, editing: null, busy: false, polling: false, last: null, done: false,
                 epoch: 0, notice: null };

  function checked() {
    return boxes.filter((b) => b.checked).map((b) => b.value);
  }

  function setBoxes(labels) {
    const chosen = new Set(labels || []);
    boxes.forEach((b) => { b.checked = chosen.has(b.value); });
  }

  function say(message, kind) {
    const status = $("status");
    status.textContent = message;
    status.dataset.kind = kind || "";
  }

  function capitalized(message) {
    return message ? message.charAt(0).toUpperCase() + message.slice(1) + "." : "";
  }

  function fmt(x, digits) {
    return x === null || x === undefined ? "–" : Number(x).toFixed(digits);
  }

  function showText(text) {
    const changed = !page.text || !text || page.text.id !== text.id;
    page.text = text;
    form.dataset.hasText = text ? "yes" : "no";
    $("submit").disabled = !text && !page.editing;
    $("skip").disabled = !text || !!page.editing;
    if (page.editing) return;
    if (!text) {
      $("text").textContent = "";
      $("text-id").textContent = "";
      return;
    }
    if (changed) {
      $("text").textContent = text.text;
      $("text-id").textContent = "Text " + text.id;
      setBoxes([]);
      page.shownAt = performance.now();
      $("text").focus();
    }
  }

  function render(state) {
    page.last = state.last_answer;
    page.done = state.phase === "done" || state.phase === "failed";
    $("n-labeled").textContent = state.n_labeled;
    $("budget").textContent = state.budget;
    $("n-skipped").textContent = state.n_skipped;
    $("round").textContent = state.round;
    $("n-rounds").textContent = state.n_rounds;
    $("batch").textContent = state.batch.asked ? state.batch.answered + " of " + state.batch.asked + " answered" : "–";
    $("budget-bar").max = state.budget;
    $("budget-bar").value = state.shown;
    $("macro-f1").textContent = state.metrics ? fmt(state.metrics.macro_f1, 3) : "–";
    $("evaluation").textContent = state.metrics && state.metrics.evaluation ? "Measured by " + state.metrics.evaluation : "";
    document.querySelectorAll("[data-count-for]").forEach((el) => {
      el.textContent = state.label_counts[el.dataset.countFor] || 0;
    });
    const advice = $("advice");
    advice.replaceChildren();
    (state.advice.length ? state.advice : [{ criterion: "advice", stop: false, detail: "comes after the first round" }])
      .forEach((a) => {
        const li = document.createElement("li");
        li.dataset.stop = a.stop ? "yes" : "no";
        li.textContent = a.criterion.replace(/_/g, " ") + ": " + (a.stop ? "stop. " : "go on. ") + a.detail;
        advice.appendChild(li);
      });
    $("undo").disabled = !state.last_answer;
    if (!page.editing) {
      const notice = page.notice && state.phase !== "failed" ? page.notice : null; // a change after the end too
      say(notice ? notice + " " + capitalized(state.message) : state.message, state.phase);
    }
    showText(state.text);
  }

  async function call(method, url, body) {
    const response = await fetch(url, {
      method,
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
      credentials: "same-origin",
    });
    let data = null;
    try { data = await response.json(); } catch (e) { data = { detail: response.statusText }; }
    if (!response.ok) {
      const error = new Error(data && data.detail ? data.detail : "HTTP " + response.status);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  async function poll() {
    if (page.polling) return;
    page.polling = true;
    try {
      for (;;) {
        const asked = page.epoch;
        const state = await call("GET", "/api/state?wait=" + (page.text || page.editing ? 0 : 20));
        if (asked !== page.epoch) continue; // an answer or a change went out meanwhile: this state may be older
        render(state);
        if (state.text || page.done || page.editing) break;
      }
    } catch (e) {
      say("Cannot reach the server (" + e.message + "); retrying…", "failed");
      setTimeout(() => { page.polling = false; poll(); }, 2000);
      return;
    }
    page.polling = false;
  }

  async function send(skipped) {
    if (page.busy) return;
    if (page.editing) return saveEdit(skipped);
    if (!page.text) return;
    page.busy = true;
    page.epoch += 1;
    page.notice = null;
    const seconds = (performance.now() - page.shownAt) / 1000;
    try {
      const result = await call("POST", "/api/answer", {
        id: page.text.id, labels: skipped ? [] : checked(), skipped: !!skipped, seconds,
      });
      page.text = null;
      render(result.state);
    } catch (e) {
      say(e.message, "error");
      page.text = null;
    } finally {
      page.epoch += 1;
      page.busy = false;
    }
    poll();
  }

  function startEdit() {
    if (!page.last || page.busy) return;
    page.editing = page.last;
    $("editing").hidden = false;
    $("editing").textContent = "Changing your answer to text " + page.last.id + ": Enter saves, s marks it skipped, Esc cancels.";
    $("text").textContent = page.last.text;
    $("text-id").textContent = "Text " + page.last.id + " (answered)";
    setBoxes(page.last.skipped ? [] : page.last.labels);
    $("submit").disabled = false;
    $("skip").disabled = false;
    $("text").focus();
  }

  function stopEdit() {
    page.editing = null;
    $("editing").hidden = true;
    const text = page.text;
    page.text = null;
    showText(text);
    poll();
  }

  async function saveEdit(skipped) {
    const edited = page.editing.id; // Esc while it saves ends the editing, not the save
    page.notice = null; // an earlier change's, until this one is saved
    page.busy = true;
    page.epoch += 1;
    try {
      const result = await call("PUT", "/api/answers",
        { id: edited, labels: skipped ? [] : checked(), skipped: !!skipped });
      page.notice = "Changed the answer to text " + edited + ".";
      page.editing = null;
      $("editing").hidden = true;
      page.text = null;
      render(result.state);
    } catch (e) {
      say(e.message, "error");
    } finally {
      page.epoch += 1;
      page.busy = false;
    }
    poll();
  }

  function toggleHelp(open) {
    const help = $("help");
    const show = open === undefined ? help.hidden : open;
    help.hidden = !show;
    $("help-button").setAttribute("aria-expanded", show ? "true" : "false");
    if (show) $("help-close").focus(); else $("text").focus();
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); send(false); });
  $("skip").addEventListener("click", () => send(true));
  $("undo").addEventListener("click", startEdit);
  $("help-button").addEventListener("click", () => toggleHelp());
  $("help-close").addEventListener("click", () => toggleHelp(false));

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    const tag = event.target && event.target.tagName;
    if (tag === "TEXTAREA" || (tag === "INPUT" && event.target.type === "text")) return;
    if (event.key === "Escape") {
      if (!$("help").hidden) toggleHelp(false); else if (page.editing) stopEdit();
      return;
    }
    if (event.key === "?") { event.preventDefault(); toggleHelp(); return; }
    if (event.key === "Enter") {
      if (tag === "BUTTON" || tag === "A" || tag === "SUMMARY") return; // their own action
      event.preventDefault();
      send(false);
      return;
    }
    const box = boxes.find((b) => b.dataset.key === event.key);
    if (box) { event.preventDefault(); box.checked = !box.checked; return; }
    if (event.key === "s") { event.preventDefault(); send(true); return; }
    if (event.key === "u") { event.preventDefault(); startEdit(); }
  });

  poll();
})();
