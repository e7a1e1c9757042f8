"""A person's session in a real browser: headless Chromium, keyboard only, the server killed and restarted.

The server is ``python -m al.annotate`` in a subprocess on 127.0.0.1 with a
free port and the real MiniLM model; Selenium drives the distribution's
Chromium (``/usr/bin/chromium``, ``/usr/bin/chromedriver``; ``.ci/run``
installs them). Set ``AL_ANNOTATE_SCREENSHOT=path.png`` to keep a screenshot.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
LABELS = ["food", "water", "shelter"]
LOOP = ["--initial", "4", "--step", "3", "--budget", "13", "--folds", "2", "--strategy", "class_embedding"]

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def _browser():
    """Headless Chromium. Its temporary folders (profile, singleton socket) go into a short folder of their own,
    removed on ``quit()``: Chromium leaves its socket folders in ``/tmp`` otherwise, and a pytest ``tmp_path``
    is too long for a socket's path."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("no /usr/bin/chromium or /usr/bin/chromedriver: install the distribution's chromium and "
                    "chromium-driver (.ci/run does, as root)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1280,860", "--disable-extensions", "--no-first-run"):
        options.add_argument(flag)
    scratch = tempfile.mkdtemp(prefix="al-chromium-")
    try:
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER), env={**os.environ, "TMPDIR": scratch}),
                                  options=options)
    except Exception as exc:  # noqa: BLE001 - any failure to start the browser is a reason to skip, not to fail
        shutil.rmtree(scratch, ignore_errors=True)
        pytest.skip(f"chromium did not start headless here: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    quit_browser = driver.quit

    def quit_and_clean() -> None:
        try:
            quit_browser()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    driver.quit = quit_and_clean
    return driver


class Server:
    """``python -m al.annotate`` in a subprocess; ``address`` once it prints it."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = open(log, "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "al.annotate", *args], cwd=REPO,
                                        stdout=subprocess.PIPE, stderr=self.log, env=env)
        line = self.process.stdout.readline().decode()
        match = re.search(r"annotate at (http://127\.0\.0\.1:\d+/)", line)
        assert match, f"the server printed {line!r}; see {log}"
        self.address = match.group(1)

    def stacks(self) -> str:
        """Every thread's stack in the server (``kill -USR1``), from its log: where it waits when a test times out."""
        if self.process.poll() is not None:
            return f"(the server exited with {self.process.returncode})"
        self.process.send_signal(signal.SIGUSR1)
        time.sleep(1.0)
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-6000:]

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                return self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                return self.process.wait(30)
        return self.process.returncode

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)
        self.log.close()


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"waited {timeout:.0f} s for {what}")


class Page:
    """The labeling page, driven with the keyboard only."""

    def __init__(self, driver) -> None:
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        self.driver, self.By, self.Keys, self.ActionChains = driver, By, Keys, ActionChains

    def el(self, element_id: str):
        return self.driver.find_element(self.By.ID, element_id)

    def keys(self, *keys: str) -> None:
        chain = self.ActionChains(self.driver)
        for key in keys:
            chain.send_keys(key)
        chain.perform()

    def current_id(self) -> str | None:
        match = re.match(r"Text (\S+)", self.el("text-id").text)
        return match.group(1) if match else None

    def wait_text(self, timeout: float = 240.0, other_than: str | None = None) -> str:
        return wait_for(lambda: (lambda i: i if i and i != other_than else None)(self.current_id()), timeout,
                        f"a text other than {other_than!r} (status: {self.el('status').text!r})")

    def checked(self) -> list[str]:
        boxes = self.driver.find_elements(self.By.CSS_SELECTOR, 'input[name="label"]')
        return [b.get_attribute("value") for b in boxes if b.is_selected()]

    def status(self) -> str:
        return self.el("status").get_attribute("data-kind") or ""


def answers_in(db: Path) -> dict[str, tuple[list[str], bool]]:
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {t: (json.loads(l), bool(s)) for t, l, s in
                connection.execute("SELECT text_id, labels, skipped FROM answers").fetchall()}
    finally:
        connection.close()


def write_texts(tmp_path: Path, texts: list[str]) -> Path:
    """``texts.jsonl`` of ``texts`` with the ids m0, m1, ..."""
    data = tmp_path / "texts.jsonl"
    data.write_text("".join(json.dumps({"id": f"m{i}", "text": t}) + "\n" for i, t in enumerate(texts)))
    return data


@contextmanager
def labeling(tmp_path: Path, texts: list[str]):
    """A session (``LOOP``) on ``texts`` in ``tmp_path / "session"`` and the page open on it: ``(driver, server,
    page)``. A failed assertion gets the server's log and threads; the browser and the server end after."""
    driver = _browser()
    args = ["--data", str(write_texts(tmp_path, texts)), "--labels", *LABELS, "--out", str(tmp_path / "session")]
    server = Server([*args, "--port", "0", *LOOP], tmp_path / "server.log")
    try:
        driver.get(server.address)
        yield driver, server, Page(driver)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nthe server's log and threads:\n{server.stacks()}") from exc
    finally:
        driver.quit()
        server.close()


def keys_for(k: int) -> list[str]:
    """The number keys pressed for the k-th text: one label, a second one every third text."""
    first = k % 3
    return [str(first + 1)] + ([str((first + 1) % 3 + 1)] if k % 3 == 0 else [])


def test_a_person_labels_with_the_keyboard_survives_a_kill_and_exports(tmp_path, disaster_messages):
    texts = disaster_messages(60, 3)
    data = write_texts(tmp_path, texts)
    session = tmp_path / "session"
    guide = tmp_path / "guidelines.txt"
    guide.write_text("Tick every need the message states or asks for: food, drinking water, shelter. "
                     "A message about none of them gets no label: press Enter with nothing ticked.")
    args = ["--data", str(data), "--labels", *LABELS, "--out", str(session), "--port", "0", "--guidelines", str(guide),
            *LOOP]
    driver = _browser()
    server = Server(args, tmp_path / "server.log")
    expected: dict[str, tuple[list[str], bool]] = {}
    page = Page(driver)
    try:
        driver.get(server.address)
        k = 0

        def answer(skip: bool = False) -> str:
            nonlocal k
            text_id = page.wait_text()
            if skip:
                page.keys("s")
                expected[text_id] = ([], True)
            else:
                pressed = keys_for(k)
                page.keys(*pressed)
                assert sorted(page.checked()) == sorted(LABELS[int(p) - 1] for p in pressed)
                page.keys(page.Keys.ENTER)
                expected[text_id] = (sorted(LABELS[int(p) - 1] for p in pressed), False)
            k += 1
            # acknowledged: the page moves on only after the server has stored the answer
            wait_for(lambda: page.current_id() != text_id, 240, f"the page to move on from {text_id}")
            return text_id

        # round 1: the random start (4 texts) and the strategy's batch (3), one skipped
        page.wait_text()
        assert page.el("n-batches").text == "3"  # four rounds: the last one measures
        assert "drinking water" in driver.find_element(page.By.CSS_SELECTOR, ".guidelines-text").text
        for i in range(7):
            answer(skip=(i == 5))
        page.wait_text()
        assert page.el("batch-number").text == "2"  # the next batch came

        # help, then undo the last answer and change it (keyboard only)
        page.keys("?")
        assert page.el("help").is_displayed()
        page.keys(page.Keys.ESCAPE)
        assert not page.el("help").is_displayed()
        waiting = page.current_id()
        last = list(expected)[-1]
        page.keys("u")
        wait_for(lambda: page.current_id() == last, 30, "the last answer to come back")
        assert sorted(page.checked()) == expected[last][0]
        page.keys("3")
        page.keys(page.Keys.ENTER)
        labels = sorted(set(expected[last][0]) ^ {"shelter"})
        expected[last] = (labels, False)
        wait_for(lambda: page.current_id() == waiting, 60, "the waiting text to come back after the change")
        # the page says what the change did, and the state shown with the waiting text does not hide it
        assert f"Changed the answer to text {last}." in page.el("status").text, page.el("status").text
        wait_for(lambda: sorted(answers_in(session / "answers.sqlite")[last][0]) == labels, 10, "the change on disk")

        page.keys("1")
        if os.environ.get("AL_ANNOTATE_SCREENSHOT"):
            driver.save_screenshot(os.environ["AL_ANNOTATE_SCREENSHOT"])
        assert driver.get_screenshot_as_png()[:8] == b"\x89PNG\r\n\x1a\n"
        page.keys("1")  # back to no label

        answer()  # one answer of round 2's batch, then the server dies mid-batch
        assert "Changed the answer" not in page.el("status").text, page.el("status").text  # the next answer ends it
        server.kill()
        stored = answers_in(session / "answers.sqlite")
        assert {t: (sorted(l), s) for t, (l, s) in stored.items()} == expected  # every acknowledged answer

        server = Server(args, tmp_path / "server.log")
        driver.get(server.address)
        resumed = page.wait_text()
        assert resumed not in expected  # the first text of the batch without an answer
        assert page.el("batch-number").text == "2"
        while True:
            done = wait_for(lambda: page.current_id() or page.status() == "done", 240, "a text or the end")
            if done is True or page.status() == "done":
                break
            answer()
        assert page.el("n-labeled").text == "12" and page.el("n-skipped").text == "1"

        # the budget is spent: the last answer can still be changed here, and the page says so
        last = list(expected)[-1]
        page.keys("u")
        wait_for(lambda: page.current_id() == last, 30, "the last answer to come back after the end")
        page.keys("3", page.Keys.ENTER)
        wait_for(lambda: f"Changed the answer to text {last}." in page.el("status").text, 30, "the change's notice")
        assert page.status() == "done" and "The budget is spent" in page.el("status").text, page.el("status").text
        # the command to copy ends the status, with no full stop after it (copied, it made -o s-labeled.jsonl.)
        assert page.el("status").text.endswith(f"-o {session.name}-labeled.jsonl"), page.el("status").text
        expected[last] = (sorted(set(expected[last][0]) ^ {"shelter"}), False)

        # change an answer later, from the list of answers
        driver.get(server.address + "answers")
        first = next(t for t, (_, s) in expected.items() if not s)
        row = wait_for(lambda: driver.find_elements(page.By.CSS_SELECTOR, f'tr[data-id="{first}"]'), 30, "the list")[0]
        row.find_element(page.By.CSS_SELECTOR, 'input[value="water"]').click()
        row.find_element(page.By.TAG_NAME, "button").click()
        wait_for(lambda: "Saved the answer to text " + first in page.el("status").text, 30, "the save")
        expected[first] = (sorted(set(expected[first][0]) ^ {"water"}), False)
        assert server.stop() == 0
    except AssertionError as exc:  # a wait that timed out: say where the server was
        raise AssertionError(f"{exc}\nthe server's log and threads:\n{server.stacks()}") from exc
    finally:
        driver.quit()
        server.close()

    stored = answers_in(session / "answers.sqlite")
    assert {t: (sorted(l), s) for t, (l, s) in stored.items()} == expected
    rounds = [json.loads(line) for line in (session / "rounds.jsonl").read_text().splitlines()]
    assert [r["n_labeled"] for r in rounds] == [4, 6, 9, 12]  # the skip in round 1's batch spent a place

    out = tmp_path / "labeled.jsonl"
    done = subprocess.run([sys.executable, "-m", "al.annotate", "export", str(session), "-o", str(out)], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    from al.datasets import load_dataset

    corpus = load_dataset("jsonl", out)  # what --dataset jsonl reads
    by_text = dict(zip(corpus.texts.tolist(), corpus.Y.toarray().tolist()))
    kept = {t: l for t, (l, s) in expected.items() if not s}
    assert len(by_text) == len(kept) == 12
    for text_id, labels in kept.items():
        assert by_text[texts[int(text_id[1:])].strip()] == [int(name in labels) for name in corpus.label_names]


#: Wraps the page's fetch so that every ``GET /api/state`` reaches the page 1.5 s after the server answered it.
SLOW_STATE = """
const real = window.fetch;
window.fetch = (url, init) => {
  const answer = real(url, init);
  if (String(url).startsWith("/api/state") && (!init || !init.method || init.method === "GET"))
    return answer.then((response) => new Promise((ok) => setTimeout(() => ok(response), 1500)));
  return answer;
};
"""


def test_a_state_that_left_the_server_before_an_answer_never_brings_the_answered_text_back(tmp_path,
                                                                                          disaster_messages):
    """A slow network or a busy server: each state the page polls for arrives 1.5 s late here, so the one it asked
    for as a text appeared arrives after that text's answer. The page drops it instead of showing the answered
    text again (where, before, it stopped polling and waited on that text for good: one CI failure)."""
    session = tmp_path / "session"
    answered: list[str] = []  # each once the page moved on from it
    shown_again: list[str] = []
    with labeling(tmp_path, disaster_messages(40, 3)) as (driver, server, page):

        def new_text() -> str | None:
            current = page.current_id()
            if current in answered:
                shown_again.append(current)
            return current if current and current not in answered else None

        page.wait_text()
        driver.execute_script(SLOW_STATE)
        for _ in range(4):  # the random start: each answered as soon as it shows
            text_id = wait_for(new_text, 60, f"a text not answered yet (answered: {answered})")
            page.keys(page.Keys.ENTER)
            wait_for(lambda: page.current_id() != text_id, 30, f"the page to move on from {text_id}")
            answered.append(text_id)
        deadline = time.monotonic() + 5  # every late state has come in by then
        while time.monotonic() < deadline:
            new_text()
            time.sleep(0.05)
        assert not shown_again, f"the page showed {sorted(set(shown_again))} again after their answers ({answered})"
        wait_for(lambda: len(answers_in(session / "answers.sqlite")) == 4, 30, "the four answers on disk")
        assert page.status() != "error", page.el("status").text
        assert server.stop() == 0
    assert sorted(answers_in(session / "answers.sqlite")) == sorted(answered)


#: Every state polled reaches the page 1 s late, every answer's response 3 s late (the server stored it at once).
SLOW_STATE_SLOWER_ANSWER = """
const real = window.fetch;
window.fetch = (url, init) => {
  const answer = real(url, init);
  const late = (ms) => answer.then((response) => new Promise((ok) => setTimeout(() => ok(response), ms)));
  if (String(url).startsWith("/api/state") && (!init || !init.method || init.method === "GET")) return late(1000);
  if (String(url).startsWith("/api/answer") && init && init.method === "POST") return late(3000);
  return answer;
};
"""


def test_the_next_text_shows_only_once_the_answer_before_it_is_stored(tmp_path, disaster_messages):
    """A poll sent as a text appeared, answered at once: the poll came back while the answer's response was on its
    way, and its next poll brought the next text, shown while the answer was still being sent. Its Enter was then
    thrown away without a word (an answer was already going out), and the answer's response, arriving, cleared the
    ticks made on it (a review's scripted run stalled after 9 answers)."""
    session = tmp_path / "session"
    with labeling(tmp_path, disaster_messages(40, 3)) as (driver, server, page):
        first = page.wait_text()
        driver.execute_script(SLOW_STATE_SLOWER_ANSWER)
        page.keys(page.Keys.ENTER)  # no poll goes out while a text is shown: this answer alone is late
        second = page.wait_text(60, other_than=first)  # its response came, and a poll went out as it showed
        page.keys(page.Keys.ENTER)  # while that poll is on its way
        sent = time.monotonic()
        shown = set()
        while time.monotonic() - sent < 2.7:  # the answer's response is 3 s late: the page waits for it
            shown.add(page.current_id())
            time.sleep(0.05)
        assert shown == {second}, f"while the answer to {second} was on its way the page showed {shown}"
        third = page.wait_text(60, other_than=second)
        page.keys("1", page.Keys.ENTER)
        wait_for(lambda: answers_in(session / "answers.sqlite").get(third) == (["food"], False), 30,
                 f"the answer to {third} on disk")
        assert page.status() != "error", page.el("status").text
        assert server.stop() == 0
    assert answers_in(session / "answers.sqlite") == {first: ([], False), second: ([], False), third: (["food"], False)}


#: The page's first answer fails as a network failure does, before it reaches the server.
FIRST_ANSWER_LOST = """
const real = window.fetch;
let lost = false;
window.fetch = (url, init) => {
  if (!lost && String(url).startsWith("/api/answer") && init && init.method === "POST") {
    lost = true;
    return Promise.reject(new TypeError("Failed to fetch"));
  }
  return real(url, init);
};
"""


def test_an_answer_sent_again_records_the_seconds_to_its_first_enter(tmp_path, disaster_messages):
    """The server out of reach as the person pressed Enter: the answer sent again once it was back recorded the
    seconds until then, the time the server was away included (12 s in a review, most of it downtime)."""
    session = tmp_path / "session"
    with labeling(tmp_path, disaster_messages(40, 3)) as (driver, server, page):
        first = page.wait_text()
        driver.execute_script(FIRST_ANSWER_LOST)
        page.keys("1", page.Keys.ENTER)
        # "not saved: the server cannot be reached", then at once (the next poll reaches it) what stays:
        wait_for(lambda: f"The server is back. Your answer to text {first} is not saved yet: press Enter to send it."
                 in page.el("status").text, 30, "the lost answer to be told")
        assert first not in answers_in(session / "answers.sqlite") and page.checked() == ["food"]
        time.sleep(5.0)  # the person away
        page.keys(page.Keys.ENTER)
        wait_for(lambda: first in answers_in(session / "answers.sqlite"), 30, f"the answer to {first} on disk")
        assert server.stop() == 0
    connection = sqlite3.connect(f"file:{session / 'answers.sqlite'}?mode=ro", uri=True)
    try:
        (labels, seconds), = connection.execute("SELECT labels, seconds FROM answers WHERE text_id = ?", (first,))
    finally:
        connection.close()
    assert json.loads(labels) == ["food"] and 0 < seconds < 4.0, seconds  # to the first Enter: under 1 s here


#: Wraps the page's fetch so that every ``PUT`` (a changed answer) reaches the page 1.5 s after the server answered it.
SLOW_CHANGE = SLOW_STATE.replace(
    'String(url).startsWith("/api/state") && (!init || !init.method || init.method === "GET")',
    'init && init.method === "PUT"')


#: Records every status the page shows, ``[kind, text]``, in ``window.statusLog``.
STATUS_LOG = """
window.statusLog = [];
const status = document.getElementById("status");
new MutationObserver(() => window.statusLog.push([status.dataset.kind || "", status.textContent]))
  .observe(status, { childList: true, characterData: true, subtree: true, attributes: true });
"""


def test_esc_while_a_changed_answer_saves_ends_the_editing_and_shows_no_error(tmp_path, disaster_messages):
    """The person presses Esc right after Enter on a changed answer: the change is stored and the page shows no error
    (it showed one before: the save read the id of an editing that Esc had ended)."""
    session = tmp_path / "session"
    with labeling(tmp_path, disaster_messages(40, 5)) as (driver, server, page):
        first = page.wait_text()
        page.keys(page.Keys.ENTER)  # no label
        wait_for(lambda: page.current_id() != first, 30, f"the page to move on from {first}")
        driver.execute_script(SLOW_CHANGE + STATUS_LOG)
        page.keys("u")
        wait_for(lambda: page.el("editing").is_displayed(), 30, "the editing of the last answer")
        # set up; the move to the next text may still be said after it (the status can trail the page): emptied
        assert driver.execute_script("return Array.isArray(window.statusLog)"), "the status log is not set up"
        driver.execute_script("window.statusLog = []")
        page.keys("1", page.Keys.ENTER, page.Keys.ESCAPE)
        wait_for(lambda: answers_in(session / "answers.sqlite")[first] == (["food"], False), 30, "the change on disk")
        time.sleep(2.0)  # the change's response comes 1.5 s late
        said = driver.execute_script("return window.statusLog")  # every status shown, in order
        assert said and [(kind, text) for kind, text in said if kind == "error"] == [], said
        assert not page.el("editing").is_displayed() and page.current_id() != first
        assert server.stop() == 0
    assert answers_in(session / "answers.sqlite")[first] == (["food"], False)


def test_long_texts_open_at_their_top_and_what_was_not_saved_is_said(tmp_path, disaster_messages):
    """What a review found: a long text opened scrolled to where the last one was read; the ticks on a text were lost
    when an earlier answer was brought back (u) and put away (Esc); number keys acted behind the list of keys; an
    answer already given in another tab was refused with a message gone in milliseconds; an answer sent to a dead
    server cleared its ticks without a word. Right-to-left texts are laid out by their own direction."""
    texts = [f"START{i} " + "\n".join([message] * 60) for i, message in enumerate(disaster_messages(16, 7))]
    session = tmp_path / "session"
    with labeling(tmp_path, texts) as (driver, server, page):
        def scrolled() -> list[int]:
            return driver.execute_script("return [Math.round(window.scrollY), document.getElementById('text').scrollTop]")

        first = page.wait_text()
        assert page.el("text").get_attribute("dir") == "auto"
        assert scrolled() == [0, 0]
        driver.execute_script("window.scrollTo(0, document.body.scrollHeight); "
                              "document.getElementById('text').scrollTop = 1e6")
        assert scrolled() != [0, 0]
        page.keys("1", page.Keys.ENTER)
        second = page.wait_text(other_than=first)
        assert scrolled() == [0, 0] and page.el("text").text.startswith("START")

        page.keys("2")
        page.keys("?")
        page.keys("1")  # behind the open list: nothing
        assert page.checked() == ["water"]
        page.keys(page.Keys.ESCAPE, "u")
        wait_for(lambda: page.current_id() == first, 30, "the last answer to come back")
        assert page.checked() == ["food"]
        page.keys("u")  # again while changing: nothing (the changed answer's ticks had replaced the waiting text's)
        assert page.current_id() == first and page.checked() == ["food"]
        page.keys(page.Keys.ESCAPE)
        wait_for(lambda: page.current_id() == second, 30, "the text waiting for an answer")
        assert page.checked() == ["water"]  # its ticks are back

        tab_a = driver.current_window_handle
        driver.switch_to.new_window("tab")
        driver.get(server.address)
        assert page.wait_text() == second
        page.keys(page.Keys.ENTER)  # answered here, with no label
        wait_for(lambda: page.current_id() != second, 30, "tab B to move on")
        driver.switch_to.window(tab_a)
        page.keys(page.Keys.ENTER)
        said = f"Your answer to text {second} was not saved: it was answered already, perhaps in another tab"
        wait_for(lambda: said in page.el("status").text, 30, "the refusal")
        time.sleep(1.5)  # still said with the next text, and still marked as an error (it had turned grey in 0.3 s)
        assert said in page.el("status").text and page.current_id() not in (None, second), page.el("status").text
        assert page.status() == "error"
        assert answers_in(session / "answers.sqlite")[second] == ([], False)

        third = page.wait_text()
        page.keys("3")
        server.kill()
        page.keys(page.Keys.ENTER)
        wait_for(lambda: f"Your answer to text {third} was not saved: the server cannot be reached"
                 in page.el("status").text, 30, "the lost answer to be told")
        assert page.current_id() == third and page.checked() == ["shelter"]
        assert third not in answers_in(session / "answers.sqlite")
        # the same command again on the same port: the page says the server is back (it had gone on saying it
        # could not be reached), and Enter sends the kept ticks
        port = server.address.rstrip("/").rsplit(":", 1)[1]
        again = Server(["--data", str(tmp_path / "texts.jsonl"), "--labels", *LABELS, "--out", str(session),
                        "--port", port, *LOOP], tmp_path / "server-again.log")
        try:
            wait_for(lambda: f"The server is back. Your answer to text {third} is not saved yet: press Enter to send "
                     f"it." in page.el("status").text, 120, "the page to see the server back")
            assert page.status() == "error" and page.checked() == ["shelter"]
            page.keys(page.Keys.ENTER)
            wait_for(lambda: third in answers_in(session / "answers.sqlite"), 30, "the kept answer to be saved")
            assert answers_in(session / "answers.sqlite")[third] == (["shelter"], False)
        finally:
            again.close()


SLOW_STRATEGY = """
import time
from pathlib import Path

from strategies.random_sampling import RandomSampling


class SlowAfterRestart(RandomSampling):
    \"\"\"Random sampling that takes 8 s a query once the file slow exists beside it.\"\"\"

    def query(self, state, n):
        if (Path(__file__).parent / "slow").exists():
            time.sleep(8.0)
        return super().query(state, n)
"""


def test_an_answer_sent_while_a_restarted_server_computes_keeps_its_ticks(tmp_path, disaster_messages):
    """Enter pressed as a restarted server replayed its round (training, then the query, before it asks again) was
    refused as 'answered already, perhaps in another tab', the ticks cleared, and the next Enter saved no label."""
    (tmp_path / "slowstrategy.py").write_text(SLOW_STRATEGY)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    data = write_texts(tmp_path, disaster_messages(30, 11))
    session = tmp_path / "session"
    args = ["--data", str(data), "--labels", *LABELS, "--out", str(session), *LOOP, "--strategy",
            "slowstrategy:SlowAfterRestart"]
    driver = _browser()
    server = Server([*args, "--port", "0"], tmp_path / "server.log", env=env)
    page = Page(driver)
    try:
        driver.get(server.address)
        for _ in range(4):  # the random start; then the first batch, which the query of round 0 chose
            shown = page.wait_text()
            page.keys("1", page.Keys.ENTER)
            wait_for(lambda: page.current_id() != shown, 60, "the page to move on")
        batch_text = page.wait_text()
        page.keys("2")
        server.kill()
        (tmp_path / "slow").touch()  # the replayed query takes 8 s: the window an early Enter falls into
        port = server.address.rstrip("/").rsplit(":", 1)[1]
        server = Server([*args, "--port", port], tmp_path / "server-again.log", env=env)
        page.keys(page.Keys.ENTER)  # the page still shows the text: sent at once, while the server computes
        wait_for(lambda: f"Your answer to text {batch_text} was not saved: the session is not asking for it yet"
                 in page.el("status").text, 30, "the early answer to be told")
        assert "answered already" not in page.el("status").text
        assert batch_text not in answers_in(session / "answers.sqlite")
        wait_for(lambda: f"The server is back. Your answer to text {batch_text} is not saved yet: press Enter to "
                 f"send it." in page.el("status").text, 60, "the text to be asked again")
        assert page.current_id() == batch_text and page.checked() == ["water"]  # the ticks came back with it
        page.keys(page.Keys.ENTER)
        wait_for(lambda: batch_text in answers_in(session / "answers.sqlite"), 30, "the kept answer to be saved")
        assert answers_in(session / "answers.sqlite")[batch_text] == (["water"], False)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nthe server's log and threads:\n{server.stacks()}") from exc
    finally:
        driver.quit()
        server.close()


def test_the_answers_page_saves_what_it_shows_and_refuses_a_change_made_elsewhere(tmp_path, disaster_messages):
    """A row ticked "skipped" shows no label; a row says its own save; a row whose answer was changed elsewhere
    (another tab) since the page loaded is refused, not overwritten."""
    import urllib.request

    session = tmp_path / "session"
    with labeling(tmp_path, disaster_messages(30, 11)) as (driver, server, page):
        first = page.wait_text()
        page.keys("1", "2", page.Keys.ENTER)
        second = page.wait_text(other_than=first)
        page.keys("3", page.Keys.ENTER)
        wait_for(lambda: len(answers_in(session / "answers.sqlite")) == 2, 30, "two answers on disk")
        driver.get(server.address + "answers")

        def row(text_id: str):
            return wait_for(lambda: driver.find_elements(page.By.CSS_SELECTOR, f'tr[data-id="{text_id}"]'), 30,
                            f"the row of {text_id}")[0]

        def row_status(text_id: str) -> str:
            from selenium.common.exceptions import StaleElementReferenceException

            try:  # the row is replaced by the stored answer's once saved
                return " ".join(c.text for c in driver.find_elements(
                    page.By.CSS_SELECTOR, f'tr[data-id="{text_id}"] .row-status'))
            except StaleElementReferenceException:
                return ""

        row(first).find_element(page.By.CSS_SELECTOR, 'input[name="skipped"]').click()
        assert not row(first).find_element(page.By.CSS_SELECTOR, 'input[value="food"]').is_enabled()
        row(first).find_element(page.By.TAG_NAME, "button").click()
        wait_for(lambda: "Saved the answer to text " + first in row_status(first), 30, "the row's own notice")
        focused = driver.switch_to.active_element  # the row saved keeps the keyboard (it had gone to the page)
        assert focused.tag_name == "button" and driver.execute_script(
            "return arguments[0].closest('tr').dataset.id", focused) == first
        assert answers_in(session / "answers.sqlite")[first] == ([], True)
        assert [b.is_selected() for b in row(first).find_elements(page.By.CSS_SELECTOR, 'input[name="label"]')] \
            == [False, False, False]

        request = urllib.request.Request(server.address + "api/answers", method="PUT", headers={
            "Content-Type": "application/json"}, data=json.dumps({"id": second, "labels": ["food"]}).encode())
        assert urllib.request.urlopen(request, timeout=30).status == 200  # another tab's change
        row(second).find_element(page.By.CSS_SELECTOR, 'input[value="water"]').click()
        row(second).find_element(page.By.TAG_NAME, "button").click()
        wait_for(lambda: "was changed elsewhere" in row_status(second), 30, "the refusal in the row")
        assert answers_in(session / "answers.sqlite")[second] == (["food"], False)
        assert server.stop() == 0


def test_a_round_with_no_label_given_yet_is_said_to_be_not_measured(tmp_path, disaster_messages):
    """Every text of the first batch answered with no label: the page said "Macro-F1 0.000", a score no classifier
    could change (every label's F1 is 0 with no positive), where nothing had been measured."""
    with labeling(tmp_path, disaster_messages(40, 5)) as (driver, server, page):
        shown = None
        for _ in range(7):  # the first batch: the 4 initial texts and the first 3 picks
            shown = page.wait_text(other_than=shown)
            page.keys(page.Keys.ENTER)
        said = wait_for(lambda: page.el("evaluation").text or None, 240, "the first round's evaluation")
        assert said == "Not measured yet: no labeled text has a label yet"
        assert page.el("macro-f1").text.startswith("–")
        # the advice is dated: round 1 trained on the 4 initial texts, the 3 picks answered since count later
        assert page.el("advice-when").text == ("As of round 1, trained on 4 labeled texts; answers since count from "
                                               "the next round.")
        assert server.stop() == 0
