// The list of answers: each row editable (labels, skipped), saved with PUT /api/answers (the id in the body).
"use strict";

(function () {
  const rows = document.getElementById("rows");
  const status = document.getElementById("status");

  async function call(method, url, body) {
    const response = await fetch(url, {
      method, credentials: "same-origin",
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await response.json().catch(() => ({ detail: response.statusText }));
    if (!response.ok) {
      const error = new Error(data.detail || "HTTP " + response.status);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  // a row keeps the answer as the server last gave it (tr.answer): a save sends it as "expected", so a change made
  // meanwhile elsewhere (another tab) is refused rather than overwritten unseen
  function row(answer, labels) {
    const tr = document.createElement("tr");
    tr.dataset.id = answer.id;
    tr.answer = { labels: answer.labels, skipped: answer.skipped };
    const text = document.createElement("td");
    text.className = "text-cell";
    const id = document.createElement("div");
    id.className = "small";
    id.textContent = "Text " + answer.id + (answer.edited_at ? " (changed)" : "");
    const body = document.createElement("div");
    body.className = "answer-text";
    body.dir = "auto";
    body.textContent = answer.text;
    text.append(id, body);

    const cell = document.createElement("td");
    cell.className = "row-labels";
    const group = document.createElement("fieldset");
    group.style.border = "0";
    group.style.padding = "0";
    const legend = document.createElement("legend");
    legend.className = "visually-hidden";
    legend.textContent = "Labels of text " + answer.id;
    group.appendChild(legend);
    labels.forEach((name) => {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.name = "label";
      box.value = name;
      box.checked = answer.labels.includes(name);
      label.append(box, document.createTextNode(name));
      group.appendChild(label);
    });
    cell.appendChild(group);

    const skip = document.createElement("td");
    const skipLabel = document.createElement("label");
    const skipBox = document.createElement("input");
    skipBox.type = "checkbox";
    skipBox.name = "skipped";
    skipBox.checked = answer.skipped;
    skipLabel.append(skipBox, document.createTextNode(" skipped"));
    skip.appendChild(skipLabel);
    group.disabled = answer.skipped; // a skipped text has no labels
    skipBox.addEventListener("change", () => { group.disabled = skipBox.checked; });

    const seconds = document.createElement("td");
    seconds.textContent = answer.seconds === null ? "–" : answer.seconds.toFixed(1);
    const round = document.createElement("td");
    round.textContent = answer.round + 1;

    const save = document.createElement("td");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Save";
    button.setAttribute("aria-label", "Save the answer to text " + answer.id);
    button.addEventListener("click", () => saveRow(tr));
    save.appendChild(button);
    tr.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && event.target.tagName !== "BUTTON") { event.preventDefault(); saveRow(tr); }
    });
    const saved = document.createElement("td");
    saved.className = "row-status";
    saved.setAttribute("role", "status");
    tr.append(text, cell, skip, seconds, round, save, saved);
    return tr;
  }

  function sayRow(tr, message, kind) {
    const cell = tr.querySelector(".row-status");
    cell.textContent = message;
    cell.dataset.kind = kind || "";
    status.textContent = message;
  }

  async function saveRow(tr) {
    if (tr.saving) return; // Enter twice or a double click: one save (a second would find its own change)
    tr.saving = true;
    const skipped = tr.querySelector('input[name="skipped"]').checked;
    const labels = skipped ? [] : Array.from(tr.querySelectorAll('input[name="label"]'))
      .filter((b) => b.checked).map((b) => b.value);
    try {
      const result = await call("PUT", "/api/answers", { id: tr.dataset.id, labels, skipped, expected: tr.answer });
      const fresh = row({ ...result.answer, text: tr.querySelector(".answer-text").textContent }, labelNames);
      const controls = (r) => Array.from(r.querySelectorAll("input, button"));
      const focused = controls(tr).indexOf(document.activeElement);
      tr.replaceWith(fresh); // the row as stored: a skipped one shows no label
      if (focused >= 0) { // the keyboard stays in the row saved (on its Save button where a label went disabled)
        const target = controls(fresh)[focused];
        (target && !target.matches(":disabled") ? target : fresh.querySelector("button")).focus();
      }
      sayRow(fresh, "Saved the answer to text " + fresh.dataset.id + ".");
    } catch (e) {
      const m = e.message.charAt(0).toUpperCase() + e.message.slice(1);
      sayRow(tr, /[.!?]$/.test(m) ? m : m + ".", "error");
    } finally {
      tr.saving = false; // the row saved is replaced by a fresh one
    }
  }

  let labelNames = [];

  async function load() {
    try {
      const data = await call("GET", "/api/answers");
      labelNames = data.labels;
      rows.replaceChildren(...data.answers.map((a) => row(a, data.labels)));
      status.textContent = data.answers.length + (data.answers.length === 1 ? " answer." : " answers.");
    } catch (e) {
      status.textContent = e.message;
    }
  }

  load();
})();
