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
  // draft: the current text's ticks while the last answer is being changed (u), restored after (Esc or saved), or
  // while an answer that was not saved waits for its text to be asked again (unsent).
  // noticeIsError: the notice says an answer or a change was not saved; it stays marked as an error (red) under
  // the states that follow, until the next answer or change.
  // unsent: the id of a text whose answer the server could not be reached for, or was not asking for yet (its ticks
  // kept in draft); once a state asks a text again, the notice says the server is back.
  // computing: when the loop began training and choosing (performance.now() ms), and what it says meanwhile.
  // spent: {id, seconds} of an answer that could not be sent: the seconds it took, sent when it goes out at last
  // (not the time the server was away).
  const page = { text: null, shownAt: 0, editing: null, busy: false, polling: false, last: null, done: false,
                 epoch: 0, notice: null, noticeIsError: false, unsent: null, draft: null, computing: null,
                 helpOpen: false, spent: null };

  function checked() {
    return boxes.filter((b) => b.checked).map((b) => b.value);
  }

  function setBoxes(labels) {
    const chosen = new Set(labels || []);
    boxes.forEach((b) => { b.checked = chosen.has(b.value); });
  }

  function say(message, kind) {
    const status = $("status");
    status.textContent = sentence(message);
    status.dataset.kind = kind || "";
  }

  // "text 1 of 4" -> "Text 1 of 4." (a message that ends in punctuation keeps it)
  function sentence(message) {
    if (!message) return "";
    const text = message.charAt(0).toUpperCase() + message.slice(1);
    // no full stop after a command to copy (": python -m al.annotate export ... -o x.jsonl"): it would be copied too
    return /[.!?…]$/.test(text) || /: python -m \S[^:]*$/.test(text) ? text : text + ".";
  }

  function withNotice(message) {
    return page.notice ? page.notice + " " + sentence(message) : message;
  }

  // while the loop trains and chooses, the seconds are counted beside the status (not read out each second), so
  // a long wait shows it is alive; a server that cannot be reached ends the count (poll)
  setInterval(() => {
    const counting = page.computing && !page.editing && !page.text;
    $("elapsed").textContent = counting
      ? "(" + Math.round((performance.now() - page.computing.since) / 1000) + " s so far)" : "";
  }, 1000);

  function fmt(x, digits) {
    return x === null || x === undefined ? "–" : Number(x).toFixed(digits);
  }

  function showText(text) {
    const changed = !page.text || !text || page.text.id !== text.id;
    page.text = text;
    form.dataset.hasText = text ? "yes" : "no";
    $("submit").disabled = !text && !page.editing;
    $("skip").disabled = !text || !!page.editing;
    $("labels").disabled = !text && !page.editing;
    if (page.editing) return;
    if (!text) {
      $("text").textContent = "";
      $("text-id").textContent = "";
      setBoxes([]);
      return;
    }
    if (changed) {
      $("text").textContent = text.text;
      $("text-id").textContent = "Text " + text.id;
      const own = page.draft && page.draft.id === text.id; // kept for its own text, whatever is asked before it
      setBoxes(own ? page.draft.labels : []);
      if (own) page.draft = null;
      page.shownAt = performance.now();
      top();
    }
  }

  // a new text is read from its first line, its id and the status above it in view
  function top() {
    $("text").scrollTop = 0;
    $("text").focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }

  function render(state) {
    page.last = state.last_answer;
    page.done = state.phase === "done" || state.phase === "failed";
    $("n-labeled").textContent = state.n_labeled;
    $("n-shown").textContent = state.shown;
    $("budget").textContent = state.budget;
    $("n-skipped").textContent = state.n_skipped;
    $("batch-number").textContent = state.batch_number;
    $("n-batches").textContent = state.n_batches;
    $("batch").textContent = state.batch.asked ? state.batch.answered + " of " + state.batch.asked + " answered" : "–";
    $("budget-bar").max = state.budget;
    $("budget-bar").value = state.shown;
    $("macro-f1").textContent = state.metrics ? fmt(state.metrics.macro_f1, 3) +
      (state.metrics.n_labeled ? " at " + state.metrics.n_labeled + " labeled" : "") : "–";
    const evaluation = state.metrics && state.metrics.evaluation;
    $("evaluation").textContent = !evaluation ? "" : state.metrics.macro_f1 === null
      ? "Not measured yet: " + evaluation.replace(/^none \((.*)\)$/, "$1") : "Measured by " + evaluation;
    document.querySelectorAll("[data-count-for]").forEach((el) => {
      el.textContent = state.label_counts[el.dataset.countFor] || 0;
    });
    const advice = $("advice");
    advice.replaceChildren();
    const trained = state.metrics && state.metrics.n_labeled;
    $("advice-when").textContent = !state.advice_round ? "" : "As of round " + state.advice_round +
      (trained ? ", trained on " + trained + " labeled " + (trained === 1 ? "text" : "texts") : "") +
      (state.phase === "done" ? "." : "; answers since count from the next round.");
    if (!state.advice.length) {
      const li = document.createElement("li");
      li.textContent = "Advice comes after the first round.";
      advice.appendChild(li);
    }
    state.advice.forEach((a) => {
      const li = document.createElement("li");
      li.dataset.stop = a.stop ? "yes" : "no";
      li.textContent = a.criterion.replace(/_/g, " ") + ": " + (a.stop ? "stop. " : "go on. ") + a.detail;
      advice.appendChild(li);
    });
    $("undo").disabled = !state.last_answer;
    page.computing = state.computing_seconds === null || state.computing_seconds === undefined ? null
      : { since: performance.now() - 1000 * state.computing_seconds, message: state.message, phase: state.phase };
    if (page.unsent !== null) { // a state came: the server is back
      const id = page.unsent;
      if (state.last_answer && state.last_answer.id === id) { // stored before its response was lost
        page.notice = "The server is back. Text " + id + " is answered (All answers shows the answer).";
        page.noticeIsError = false;
        page.draft = null;
        page.unsent = null;
      } else if (state.text && state.text.id === id) {
        page.notice = "The server is back. Your answer to text " + id + " is not saved yet: press Enter to send it.";
        page.unsent = null;
      } else if (state.text || page.done) {
        page.notice = "The server is back. Your answer to text " + id + " is not saved yet" +
          (page.done ? "." : ": its ticks come back when it is asked again.");
        page.unsent = null;
      } else { // computing its round first (a restarted server): the text comes back after
        page.notice = "The server is back and computes its round first. Your answer to text " + id + " is not " +
          "saved yet: its ticks come back when it is asked again.";
      }
    }
    if (!page.editing) {
      if (state.phase === "failed") page.notice = null; // what stopped the session comes first
      say(withNotice(state.message), page.notice && page.noticeIsError ? "error" : state.phase);
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
      error.reason = data && data.reason; // "not_asked": a text the session does not ask now
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
        // an answer or a change is on its way: its response shows the state after it, and polls again then (a
        // state shown now could be the next text, whose Enter would be dropped and whose ticks that response clears)
        if (page.busy) break;
        if (asked !== page.epoch) continue; // an answer or a change went out meanwhile: this state may be older
        render(state);
        if (state.text || page.done || page.editing) break;
      }
    } catch (e) {
      page.computing = null; // what it computed is unknown now
      $("elapsed").textContent = "";
      say(withNotice("Cannot reach the server (" + e.message + "); retrying…"), "failed");
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
    page.noticeIsError = false;
    page.unsent = null;
    const id = page.text.id;
    const seconds = page.spent && page.spent.id === id ? page.spent.seconds : (performance.now() - page.shownAt) / 1000;
    try {
      const result = await call("POST", "/api/answer", {
        id, labels: skipped ? [] : checked(), skipped: !!skipped, seconds,
      });
      if (page.draft && page.draft.id === id) page.draft = null; // sent: no ticks to bring back
      if (page.spent && page.spent.id === id) page.spent = null; // another's stays for when it is asked again
      page.text = null;
      render(result.state);
    } catch (e) {
      if (e.status === undefined) { // the server is not there: the text and its ticks stay, to be sent again
        page.notice = "Your answer to text " + id + " was not saved: the server cannot be reached. Your ticks are " +
          "kept; press Enter again once it is back.";
        page.unsent = id;
        page.draft = { id, labels: checked() }; // back when the text is asked again, whatever the states between
        page.spent = { id, seconds };
      } else if (e.status === 409 && e.reason === "not_asked") {
        // a restarted server computing its round again before it asks: the ticks wait for the text to come back
        page.notice = "Your answer to text " + id + " was not saved: the session is not asking for it yet (a " +
          "restarted server computes its round again first). Your ticks are kept; press Enter once it is back.";
        page.unsent = id;
        page.draft = { id, labels: checked() };
        page.spent = { id, seconds };
        page.text = null;
      } else {
        page.notice = e.status === 409 && !e.message.startsWith("the session stopped")
          ? "Your answer to text " + id + " was not saved: it was answered already, perhaps in another tab " +
            "(All answers shows and changes it)."
          : sentence(e.message);
        page.text = null;
      }
      page.noticeIsError = true;
      say(page.notice, "error");
    } finally {
      page.epoch += 1;
      page.busy = false;
    }
    poll();
  }

  function startEdit() {
    // u again while changing: nothing (it took the changed answer's ticks for the waiting text's draft)
    if (!page.last || page.busy || page.editing) return;
    if (page.text) page.draft = { id: page.text.id, labels: checked() }; // back when the change ends
    page.editing = page.last;
    $("editing").hidden = false;
    $("editing").textContent = "Changing your answer to text " + page.last.id + ": Enter saves, s marks it skipped, Esc cancels.";
    $("text").textContent = page.last.text;
    $("text-id").textContent = "Text " + page.last.id + " (answered)";
    setBoxes(page.last.skipped ? [] : page.last.labels);
    $("submit").disabled = false;
    $("skip").disabled = false;
    $("labels").disabled = false;
    top();
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
    page.noticeIsError = false;
    page.busy = true;
    page.epoch += 1;
    try {
      const seen = { labels: page.editing.labels, skipped: page.editing.skipped };
      const result = await call("PUT", "/api/answers",
        { id: edited, labels: skipped ? [] : checked(), skipped: !!skipped, expected: seen });
      page.notice = "Changed the answer to text " + edited + ".";
      page.editing = null;
      $("editing").hidden = true;
      page.text = null;
      render(result.state);
    } catch (e) {
      if (e.status === 409 && page.editing) { // changed in another tab meanwhile: u brings back what it is now
        page.notice = "Not changed: " + sentence(e.message);
        page.noticeIsError = true;
        page.busy = false;
        stopEdit();
      }
      say(page.notice && e.status === 409 ? page.notice : e.message, "error");
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
    page.helpOpen = show;
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
    if (page.helpOpen) return; // the keys act on the form, which the list covers: close it first
    if (event.key === "Enter") {
      if (tag === "BUTTON" || tag === "A" || tag === "SUMMARY") return; // their own action
      event.preventDefault();
      send(false);
      return;
    }
    const box = boxes.find((b) => b.dataset.key === event.key);
    if (box) {
      event.preventDefault();
      if (page.text || page.editing) box.checked = !box.checked; // no text, nothing to label
      return;
    }
    if (event.key === "s") { event.preventDefault(); send(true); return; }
    if (event.key === "u") { event.preventDefault(); startEdit(); }
  });

  poll();
})();
