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
    if (!response.ok) throw new Error(data.detail || "HTTP " + response.status);
    return data;
  }

  function row(answer, labels) {
    const tr = document.createElement("tr");
    tr.dataset.id = answer.id;
    const text = document.createElement("td");
    text.className = "text-cell";
    const id = document.createElement("div");
    id.className = "small";
    id.textContent = "Text " + answer.id + (answer.edited_at ? " (changed)" : "");
    const body = document.createElement("div");
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
    tr.append(text, cell, skip, seconds, round, save);
    return tr;
  }

  async function saveRow(tr) {
    const labels = Array.from(tr.querySelectorAll('input[name="label"]')).filter((b) => b.checked).map((b) => b.value);
    const skipped = tr.querySelector('input[name="skipped"]').checked;
    try {
      await call("PUT", "/api/answers", { id: tr.dataset.id, labels, skipped });
      status.textContent = "Saved the answer to text " + tr.dataset.id + ".";
    } catch (e) {
      status.textContent = e.message;
    }
  }

  async function load() {
    try {
      const data = await call("GET", "/api/answers");
      rows.replaceChildren(...data.answers.map((a) => row(a, data.labels)));
      status.textContent = data.answers.length + " answers.";
    } catch (e) {
      status.textContent = e.message;
    }
  }

  load();
})();
