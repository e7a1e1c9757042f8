"""``python -m al.annotate``: label your own texts in the browser, the active-learning loop choosing which.

Examples
--------
    python -m al.annotate --data texts.jsonl --labels food water shelter --out sessions/aid
    python -m al.annotate --data texts.csv --label-file labels.txt --out sessions/aid --guidelines guide.txt \\
        --dev dev.jsonl --strategy margin --step 20 --budget 300
    python -m al.annotate export sessions/aid -o labeled.jsonl
    AL_ANNOTATE_TOKEN=... python -m al.annotate --host 0.0.0.0 --data texts.jsonl --labels a b --out sessions/aid

Ctrl-C or SIGTERM stops the server; every answer is on disk already, and the same command resumes.
``kill -USR1 PID`` writes every thread's stack to standard error, to see where a session that seems
stuck waits.
A session records how it reads its files (--text-column, --label-sep, --label-columns); its resume and its
export read them so, and refuse one of those options that says otherwise. A session started before sessions
recorded its label columns, on a file that gives labels both ways, is read as it began (the 0/1 columns, the
'labels' list overriding them row by row) once that agrees with what it recorded, with no option; its first
resume records it.
"""
from __future__ import annotations

import argparse
import dataclasses
import errno
import faulthandler
import os
import secrets
import signal
import shlex
import socket
import sys
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import urlsplit

from al.cli import ArgumentParser, GivenOnce, check_own_folder, output_dir, output_file, sigterm_stops, stopped
from al.config import SimulationConfig, console_spelling, from_mapping, load_yaml, merge_settings, normalise_mapping
from al.errors import ALError, ConfigError, did_you_mean, spelled
from al.progress import counted, quiet_while

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
#: Shortest token --token accepts (a generated one has 32 characters).
MIN_TOKEN_LENGTH = 16
#: Where the token may come from instead of --token: a variable, unlike a flag, is not in the process list.
TOKEN_ENV = "AL_ANNOTATE_TOKEN"
#: What an export may be called: it is JSON lines, as ``--dataset jsonl`` reads them (``.json`` too).
EXPORT_SUFFIXES = (".jsonl", ".ndjson", ".json")
#: The largest guidelines file a session shows (it goes into every page load).
MAX_GUIDELINES_BYTES = 64 * 1024
#: Flags of the start command that are settings of the session, not of the simulation config.
_SESSION_FLAGS = {"data", "labels", "label_file", "out", "guidelines", "dev", "text_column", "label_columns",
                  "label_sep", "host", "port", "token", "origin", "folds", "quiet", "config"}


def build_parser() -> argparse.ArgumentParser:
    """The start command's options; simulation settings as in ``al.simulate`` (no defaults here: ``SUPPRESS``)."""
    from al.embedders import PRECISIONS

    d = SimulationConfig()
    p = ArgumentParser(
        prog="python -m al.annotate",
        description="Serve a local page where you label texts one at a time while the active-learning loop "
        "retrains and picks the next ones. `python -m al.annotate export SESSION_DIR -o FILE` writes the labels.",
        argument_default=argparse.SUPPRESS,
    )
    g = p.add_argument_group("session")
    g.add_argument("--data", required=True, metavar="FILE",
                   help="CSV (.csv, .tsv) or JSON-lines (.jsonl) file of texts (a 'text' column; optional 'id'; "
                   "labels given already as 0/1 columns named as the labels or a 'labels' list column)")
    g.add_argument("--labels", nargs="+", metavar="LABEL", help="the labels to give (up to ten get number keys)")
    g.add_argument("--label-file", metavar="FILE", help="the labels, one per line (instead of --labels)")
    g.add_argument("--out", required=True, metavar="SESSION_DIR",
                   help="session directory: config.json, rounds.jsonl, answers.sqlite; the same command resumes it")
    g.add_argument("--guidelines", metavar="FILE", help="a short text shown above each text")
    g.add_argument("--dev", metavar="FILE", help="labeled texts (same format) to measure each round on; without it "
                   "rounds are measured by cross-validation over the labels so far")
    add_reading_options(g, "; a resumed session reads its files as it began (leave these out)")
    g.add_argument("--folds", type=int, help="cross-validation folds without --dev (default 5)")
    g = p.add_argument_group("server")
    g.add_argument("--host", help=f"address to listen on (default {DEFAULT_HOST}: this machine only); an address "
                   f"other than a loopback one (127.x.x.x, ::1, localhost) needs the token printed at start (0.0.0.0 "
                   f"or ::, every interface, is printed as this machine's name)")
    g.add_argument("--port", type=int, help=f"port (default {DEFAULT_PORT}; 0: any free port)")
    g.add_argument("--token", help=f"the token to require, at least {MIN_TOKEN_LENGTH} characters; the environment "
                   f"variable {TOKEN_ENV} gives it too, out of sight of other users' process lists (default: "
                   f"${TOKEN_ENV} when set, else a random one when --host is not loopback or --origin is given)")
    g.add_argument("--origin", action="append", metavar="URL",
                   help="a page besides this server's own that may send answers (repeatable): a reverse proxy's "
                   "public address, e.g. https://label.example.org")
    g.add_argument("--quiet", action="store_true", help="print the address only")
    g = p.add_argument_group("loop (as in python -m al.simulate)")
    g.add_argument("--strategy", help=f"registered name or package.module:Class (default: {d.strategy.name})")
    g.add_argument("--strategy-param", action="append", metavar="KEY=VALUE", help="strategy constructor argument")
    g.add_argument("--model", help=f"sentence-embedding model (default: {d.model})")
    g.add_argument("--embed-precision", choices=PRECISIONS,
                   help="fp32, or bf16 autocast for the sentence encoder and ALPS's masked LM (faster on CPUs with "
                   f"AVX512-BF16 or AMX) (default: {d.embed_precision})")
    g.add_argument("--classifier", help=f"classifier (default: {d.classifier.name})")
    g.add_argument("--classifier-param", action="append", metavar="KEY=VALUE", help="classifier constructor argument")
    g.add_argument("--initial", type=int, help=f"texts labeled before the strategy starts choosing (default: "
                   f"{d.initial}; texts labeled in the data file count, the rest are drawn at random)")
    g.add_argument("--step", type=int, help=f"texts per batch; the last batch shrinks to fit the budget, as in "
                   f"al.simulate (default: {d.step})")
    g.add_argument("--budget", type=int, help=f"texts to show in all, the initial ones and skips included, at most "
                   f"the texts of --data (default: {d.budget})")
    g.add_argument("--seed", type=int, help=f"seed of every random choice of the loop: the first labeled set, the "
                   f"strategy's and the classifier's draws (default: {d.seed})")
    g.add_argument("--device", help=f"auto, cpu, cuda or cuda:N (default: {d.device})")
    g.add_argument("--threads", type=int, metavar="N",
                   help="at most N torch, BLAS and OpenMP threads for the session's process (default: the "
                   "process's own); a fine-tuned classifier's last bits depend on torch's thread count")
    g.add_argument("--config", metavar="YAML", action=GivenOnce,
                   help="loop settings from a YAML file; flags override it")
    return p


def add_reading_options(group: argparse._ActionsContainer, note: str) -> None:
    """``--text-column``, ``--label-columns``, ``--label-sep`` (no defaults: ``SUPPRESS``); ``note`` ends each help."""
    group.add_argument("--text-column", help=f"the text column (default 'text'){note}")
    group.add_argument("--label-columns", nargs="+", metavar="COLUMN",
                       help="where the labels given already are: one column listing them, or 0/1 columns named as "
                       "the labels (default: the columns named as the labels, or else the 'labels' column; a file "
                       f"with both must name which){note}")
    group.add_argument("--label-sep", metavar="SEP",
                       help="what joins the labels of a label-list cell that is not a JSON list, e.g. --label-sep , "
                       f"for 'food,water' (default '|'){note}")


def export_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="python -m al.annotate export",
                       description="Write a session's labeled texts as JSON lines (--dataset jsonl).",
                       argument_default=argparse.SUPPRESS)
    p.add_argument("session", metavar="SESSION_DIR", help="the session's folder (its --out when it was started)")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help=f"the JSON-lines file to write ({', '.join(EXPORT_SUFFIXES)}), in a folder that exists; a file "
                   f"already there is replaced (and said to be)")
    p.add_argument("--data", metavar="FILE",
                   help="the session's data file where it is now, if it moved (default: the path given at start)")
    add_reading_options(p.add_argument_group("reading the data file (only where the session did not record it)"),
                        "; the session's own when it recorded one (a session started before sessions recorded "
                        "their label columns reads a file with both as it began: leave it out)")
    return p


def given_reading(args: argparse.Namespace) -> dict[str, Any]:
    """The options ``--text-column``, ``--label-sep``, ``--label-columns`` a command line gives (those given only)."""
    from al.annotate.data import READING_FLAGS

    given = {key: getattr(args, key) for key in READING_FLAGS if key in args}
    if "label_sep" in given and not given["label_sep"]:
        raise ConfigError(f"--label-sep must be a character or string such as ',' or ';', got "
                          f"{spelled(given['label_sep'])}")
    if "text_column" in given and not given["text_column"].strip():
        raise ConfigError(f"--text-column must name a column, got {spelled(given['text_column'])}; leave it out for "
                          f"'text'")
    if "label_columns" in given:
        given["label_columns"] = list(given["label_columns"])
    return given


#: Settings a session sets itself from its flags (the data, its reading, the labels, the folder), so a config file's
#: are not read (its labels are, where no flag gives them).
SESSION_SETS = ("dataset", "data_path", "labels", "out", "pool_size", "data_options", "n_frequent", "n_rare")


def config_from_args(args: argparse.Namespace) -> SimulationConfig:
    """The loop's settings: ``--config`` laid under the flags given, as in ``al.simulate``; data and labels set here."""
    from al.annotate.data import check_label_names, read_label_file
    from al.simulate import given_settings, replaced_params

    base: dict = {}
    source = "flags"
    if "config" in args:
        source = args.config
        base, notes = normalise_mapping(load_yaml(args.config), args.config)
        for note in notes:
            print(f"warning: {note}", file=sys.stderr)
    loop = argparse.Namespace(**{k: v for k, v in vars(args).items() if k not in _SESSION_FLAGS})
    given, notes = given_settings(loop)
    for note in notes + replaced_params(base, given, source):
        print(f"warning: {note}", file=sys.stderr)
    from_file = base.get("labels") if "labels" not in args and "label_file" not in args else None
    if from_file is not None:  # the config file's labels: read where no flag gives them
        if isinstance(from_file, str):  # one label, as al.simulate's config reads it
            from_file = [from_file]
        if not isinstance(from_file, list) or not all(isinstance(name, str) for name in from_file):
            raise ConfigError(f"labels in {source} must be a list of names, got {spelled(from_file)}; e.g. labels: "
                              f"[food, water], or give --labels A B C")
        labels = check_label_names(from_file, f"labels in {source}")
    elif "labels" in args and "label_file" in args:
        raise ConfigError(f"--labels and --label-file were both given (--labels {shlex.join(args.labels)}, "
                          f"--label-file {shlex.quote(args.label_file)}); keep one of them")
    elif "labels" not in args and "label_file" not in args:
        raise ConfigError("give the labels with --labels A B C or with --label-file FILE (one of them), or as "
                          "labels: [A, B, C] in a --config file")
    else:
        labels = check_label_names(args.labels) if "labels" in args else read_label_file(args.label_file)
    unread = [key for key in SESSION_SETS if key in base and key != "labels"]
    if unread:  # a simulation's config file, given as it is: said, not silently left out
        print(f"warning: {source} sets {', '.join(unread)}, which a session does not read from a config file (its "
              f"texts are --data, read whole, and its folder --out); left out", file=sys.stderr)
    if not str(args.out).strip():
        raise ConfigError(f"--out must name the session's folder, got {spelled(args.out)}; e.g. --out sessions/mine")
    data = Path(args.data)
    dataset = "csv" if data.suffix.lower() in (".csv", ".tsv") else "jsonl"
    merged = merge_settings(base, given)
    for key in SESSION_SETS:
        merged.pop(key, None)
    config = from_mapping(merged, source=source)
    return dataclasses.replace(config, dataset=dataset, data_path=str(data), labels=labels, out=str(args.out))


def build_session(args: argparse.Namespace, embed=None):
    """An opened (not started) :class:`~al.annotate.session.Session` for the start command's arguments."""
    return prepare_session(args, embed=embed).open()


def prepare_session(args: argparse.Namespace, embed=None):
    """A checked, not opened :class:`~al.annotate.session.Session`: every setting and file read and checked, and
    nothing written, so that what may still fail (the port) can fail before the session directory exists."""
    from al.annotate.data import (MAX_ID_LENGTH, file_digest, old_session_reading, read_dev, read_session_texts,
                                  recorded_reading, resolve_reading)
    from al.annotate.export import session_facts, stored_session
    from al.annotate.session import (HOLDS_NO_ANSWERS, SESSION_FILES, Session, SessionOptions, SessionRecords,
                                     holds_nothing, validate_loop)
    from al.records import CONFIG_FILE
    from al.simulate import stored_settings

    config = config_from_args(args)
    if not Path(config.data_path).is_file():
        state = "is a directory" if Path(config.data_path).is_dir() else "does not exist"
        raise ConfigError(f"data file {config.data_path} {state}; expected a .csv, .tsv or .jsonl file of texts")
    output_dir(config.out, "--out")  # a session folder that cannot be written fails before the data loads
    if not (Path(config.out) / CONFIG_FILE).exists():  # a new session: never among a folder's other files (--out .)
        check_own_folder(Path(config.out), "--out", "session", "al.annotate", lambda name: name in SESSION_FILES,
                         then="resumed")
    validate_loop(config)  # --initial and --budget are checked with the pool's size, once the texts are read
    if config.device.startswith("cuda"):  # a GPU that is not there fails before anything is served or written
        from al.device import resolve_device

        resolve_device(config.device)
    if config.threads is not None:  # --threads or a --config file's: this process is the session's own
        from al.device import limit_threads

        limit_threads(config.threads)
    if embed is None:
        from al.models import resolve_model

        resolve_model(config.model)
    given = given_reading(args)
    found = stored_session(config.out)  # a resume reads the files as the session recorded
    where = f"session {config.out}"
    session_block = found[0]["config"]["session"] if found is not None else {}
    if found is not None or (Path(config.out) / CONFIG_FILE).is_file():
        # someone else's config.json, another data file or other settings are named before the file is read
        given_file = {**session_block, "data_sha256": file_digest(Path(config.data_path))}
        SessionRecords(config.out, None, locked=False).compare({**config.resolved(), "session": given_file},
                                                                stored_settings)
    recorded = recorded_reading(session_block, found[1], where) if found is not None else {}
    advice = (f"; {HOLDS_NO_ANSWERS}, so removing that directory loses nothing; or pass another --out"
              if found is not None and holds_nothing(config.out)
              else ", or pass another --out for a new session")
    read_as = resolve_reading(recorded, given, where, advice)
    if (found is not None and "label_columns" not in recorded
            and session_block.get("data_sha256") == file_digest(Path(config.data_path))):
        # a session from before they were recorded, read as it began (another file is refused when it opens)
        read_as = old_session_reading(config.data_path, config.labels, read_as,
                                      session_facts(config.out, session_block), where)
    reading = read_as.to_dict()
    text_column, label_sep, label_columns = reading["text_column"], reading["label_sep"], reading["label_columns"]
    texts = read_session_texts(config.data_path, config.labels, max_id_length=MAX_ID_LENGTH, **reading)
    begun = found is not None and not holds_nothing(config.out)  # its file cannot change now
    if (note := repeated_texts(texts.texts, texts.ids, config.data_path, begun)) is not None:
        print(f"warning: {note}", file=sys.stderr)
    dev = None
    dev_digest = None
    if "dev" in args:
        dev_texts, Y_dev = read_dev(args.dev, config.labels, **reading)
        dev = (dev_texts, Y_dev, Path(args.dev))
        dev_digest = file_digest(Path(args.dev))
        if (note := dev_in_pool(dev_texts, texts.texts, args.dev, config.data_path)) is not None:
            print(f"warning: {note}", file=sys.stderr)
    guidelines = None
    if "guidelines" in args:
        from al.io import read_text

        guidelines = read_text(args.guidelines, "guidelines file", "a short text shown above each text").strip()
        if len(guidelines.encode()) > MAX_GUIDELINES_BYTES:  # sent with every page: a short text, not a manual
            raise ConfigError(f"guidelines file {args.guidelines} holds {len(guidelines.encode()):,} bytes; expected "
                              f"a short text shown above each text (at most {MAX_GUIDELINES_BYTES // 1024} KiB): "
                              f"give a summary, and a link to the full guide in it")
    folds = getattr(args, "folds", 5)
    if not isinstance(folds, int) or folds < 2:
        raise ConfigError(f"--folds must be at least 2, got {folds}: cross-validation holds out one fold of K; "
                          f"give --folds 2 or more (5 when left out), or measure on labeled texts of your own with "
                          f"--dev FILE")
    options = SessionOptions(Path(config.data_path), text_column, dev, dev_digest, guidelines, folds,
                             label_sep=label_sep, label_columns=label_columns,
                             label_columns_in_config=found is None or "label_columns" in session_block,
                             legacy_union=read_as.legacy_union)
    return Session(config, texts, options, embed=embed).check()


def repeated_texts(texts: Sequence[str], ids: Sequence[str], data_path: Any, begun: bool = False) -> str | None:
    """The warning for texts of the pool that repeat an earlier one (runs of spaces as one, ends stripped), or None:
    each is a text of its own, which may be asked and labeled apart. ``begun``: a session with answers, whose
    file cannot change (removing the repeats then needs a new session)."""
    first: dict[str, str] = {}
    repeats: list[tuple[str, str]] = []
    for text, text_id in zip(texts, ids):
        plain = " ".join(str(text).split())
        if plain in first:
            repeats.append((text_id, first[plain]))
        else:
            first[plain] = text_id
    if not repeats:
        return None
    shown, earlier = repeats[0]
    one = len(repeats) == 1
    fix = ("the session holds answers, so its file cannot change: a file without the repeats needs another --out"
           if begun else "remove the repeats from the file to label each text once")
    return (f"{counted(len(repeats), 'text')} of {data_path} repeat{'s' if one else ''} an earlier one "
            f"({'' if one else 'e.g. '}id {shown!r} repeats {earlier!r}): each copy is a text of its own; {fix}")


def dev_in_pool(dev_texts: Sequence[str], pool_texts: Sequence[str], dev_path: Any, data_path: Any) -> str | None:
    """The warning for --dev texts that are also in the pool (compared with runs of spaces as one, ends stripped:
    an export of the session itself), or None: each round's scores would be measured partly on texts the
    classifier is trained on once they are labeled."""
    def plain(text: str) -> str:
        return " ".join(str(text).split())

    pool = {plain(t) for t in pool_texts}
    shared = sum(plain(t) in pool for t in dev_texts)
    if not shared:
        return None
    return (f"{shared} of the {len(dev_texts)} texts of --dev {dev_path} are also in {data_path}: a text labeled in "
            f"the session is then scored on after it is trained on, so each round's dev scores read high; give dev "
            f"texts the pool does not hold")


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port); ConfigError when it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:  # the host is at fault, not the port
            why = "a name that does not resolve" if isinstance(exc, socket.gaierror) else "no address of this machine"
            raise ConfigError(f"cannot listen on {url_host(host)} ({exc.strerror or exc}): --host is {why}; pass "
                              f"another --host, e.g. {DEFAULT_HOST} (this machine only)") from None
        raise ConfigError(f"cannot listen on {url_host(host)}:{port} ({exc.strerror or exc}); pass another --port, "
                          f"or --port 0 for a free one") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from al.annotate.app import create_app, is_loopback
    from al.annotate.session import batch_plan, more_budget

    host = getattr(args, "host", DEFAULT_HOST)
    if host.startswith("[") and host.endswith("]"):  # an IPv6 address as a URL writes it: [::1]
        host = host[1:-1]
    if not host.strip():  # the system would take it for every interface
        raise ConfigError(f"--host must name an address, got {spelled(getattr(args, 'host'))}; leave it out for "
                          f"{DEFAULT_HOST} (this machine only), or pass --host 0.0.0.0 for every interface")
    port = getattr(args, "port", DEFAULT_PORT)
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be 0 to 65535, got {port}; 0 takes any free port")
    loopback = is_loopback(host)
    token, source = getattr(args, "token", None), "--token"
    if token is None and os.environ.get(TOKEN_ENV):  # the flag wins; an empty variable is no token
        token, source = os.environ[TOKEN_ENV], TOKEN_ENV
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(f"{source} must be at least {MIN_TOKEN_LENGTH} characters, got {len(token)}; leave it "
                          f"out for a random one")
    origins = getattr(args, "origin", [])
    for origin in origins:
        parts = urlsplit(origin)
        if (parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/")
                or parts.query or parts.fragment or parts.username is not None):
            raise ConfigError(f"--origin must be a page's address such as https://label.example.org, got "
                              f"{spelled(origin)}")
    if token is None and (not loopback or origins):  # a proxy's public page is not this machine alone
        token = secrets.token_urlsafe(24)
    session = prepare_session(args)  # every setting and file checked; nothing written yet
    if hasattr(signal, "SIGUSR1"):  # kill -USR1 PID: every thread's stack on stderr (where a stuck session waits)
        try:
            faulthandler.register(signal.SIGUSR1, all_threads=True)
        except (OSError, ValueError):  # stderr is no file (captured in-process): no stacks on request
            pass
    sock = listen(host, port)  # a busy port fails here, before the session directory exists
    try:
        session.open()
        actual = sock.getsockname()[1]  # with --port 0, the one the system chose
        page = f"http://{url_host(shown_host(host))}:{actual}/"
        session.note_address(page)  # never the token: a second start says where this page is
        address = page + (f"?token={token}" if token else "")
        config = session.config
        complete = len(session.records.rounds) >= config.n_rounds  # nothing to ask: the page shows the answers
        if "quiet" not in args:
            state = start_state(len(session.records.rounds), len(session.store.all()), config.n_rounds - 1,
                                complete)
            if (raised := session.records.raised.get("budget")) is not None:  # as al.simulate says it
                was = session.records.raised_on_stored.get("budget", raised)[0]
                last = session.answered_under  # an extension stopped before its first round: config.json says `was`
                also = f"; last started with --budget {last}" if last not in (None, was, raised[1]) else ""
                state = f"extending to budget {raised[1]} (was {was}{also}): {state}"
            session.say = lambda line: print(line, file=sys.stderr, flush=True)
            print(f"{state} "
                  f"{counted(len(session.texts.texts), 'text')} of {session.options.data_path}"
                  f"{given_note(len(session.texts.given))}, labels {', '.join(session.label_names)}; "
                  f"{config.strategy.label(console_spelling)} picks "
                  f"{batch_plan(config.initial, config.step, config.budget)} -> {session.directory}", file=sys.stderr)
            if complete:
                print(f"complete: {session.done_message()} "
                      f"({more_budget(config.initial, config.step, config.budget)})", file=sys.stderr)
        print(f"annotate at {address}", flush=True)
        if "quiet" not in args:
            resumes = "" if complete or session.finished else "; the same command resumes where you left off"
            print(f"Ctrl-C stops{resumes}", file=sys.stderr, flush=True)
        app = create_app(session, token=token, loopback=loopback, origins=origins, port=actual)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                               timeout_graceful_shutdown=2))
        session.start()
        try:
            server.run(sockets=[sock])
        except KeyboardInterrupt:  # uvicorn stops on Ctrl-C or SIGTERM, then raises it again (SIGTERM: Terminated)
            pass
    finally:
        session.close(timeout=5)
        sock.close()
    if "quiet" not in args:
        then = (f"the session is complete; {more_budget(config.initial, config.step, config.budget)}"
                if session.finished else "the same command resumes")
        print(f"stopped; every answer is in {session.store.path}; {then}", file=sys.stderr)
    return 0


def start_state(rounds: int, answers: int, n_batches: int, complete: bool = False) -> str:
    """How the start line begins: ``starting:``, or ``resuming:`` with the answers stored (skips included) and the
    batches finished, e.g. ``resuming after batch 3 of 10: 120 answers so far,``; a ``complete`` session, which
    asks nothing more, ``opening the complete session (10 batches): 500 answers,``.

    A round's record is stored once its batch is answered (the first batch: the initial texts and the first
    picks), so ``rounds`` stored count the batches done; the last round asks nothing, and a session's
    ``n_batches`` is its rounds less one (:func:`batch_plan`).
    """
    if not rounds and not answers:
        return "starting:"
    if complete:
        return f"opening the complete session ({counted(n_batches, 'batch', 'batches')}): {counted(answers, 'answer')},"
    done = f" after batch {min(rounds, n_batches)} of {n_batches}" if rounds else ""
    return f"resuming{done}: {counted(answers, 'answer')} so far,"


def given_note(n_given: int) -> str:
    """`` (20 labeled in the file, counted in the budget)`` for texts the data file labels; empty for none."""
    return f" ({n_given:,} labeled in the file, counted in the budget)" if n_given else ""


#: Addresses that listen on every interface of the machine: no browser elsewhere can open them.
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::"})


def shown_host(host: str) -> str:
    """The host the printed address names: the machine's name for a wildcard bind (``0.0.0.0``, ``::``), which
    no other machine's browser can open; ``host`` itself otherwise."""
    return socket.gethostname() if host in WILDCARD_HOSTS else host


def url_host(host: str) -> str:
    """``host`` as a URL names it: an IPv6 address in brackets (``[::1]``), any other host as it is."""
    return f"[{host}]" if ":" in host else host


def export(argv: Sequence[str]) -> int:
    from al.annotate.export import check_output, check_output_folder, export_session

    args = export_parser().parse_args(argv)
    data = getattr(args, "data", None)
    try:
        # a session's own file is named as such, whatever its suffix
        check_output(args.session, args.output, "-o", data)
        output_file(args.output, "-o", EXPORT_SUFFIXES)
        check_output_folder(args.output, "-o")
        replaced = Path(args.output).is_file()  # said: an earlier export of another session there is gone
        exported = export_session(args.session, args.output, "-o", given_reading(args), data)
    except ALError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    counts = exported.counts
    warning = exported.warning()
    if warning is not None:
        print(f"warning: {warning}", file=sys.stderr)
    written = counts["given"] + counts["person"]
    if not written:  # an empty file is no training data: said, not only counted
        skips = f", {counts['skipped']} skipped" if counts["skipped"] else ""
        print(f"warning: the session {args.session} holds no labeled text yet (no labeled answer{skips}, none "
              f"labeled in the data file): {args.output} is empty", file=sys.stderr)
    print(f"wrote {counted(written, 'labeled text')} to {args.output}"
          f"{', replacing the file there' if replaced else ''} ({counts['person']} answered, "
          f"{counts['given']} labeled in the data file; {counts['skipped']} skipped left out)", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["export"]:
        return export(argv[1:])
    if argv and not argv[0].startswith("-"):  # the start command takes options alone
        print(f"error: unknown command {argv[0]!r}{did_you_mean([argv[0]], ['export'])}; python -m al.annotate "
              f"--data FILE --labels A B --out DIR starts or resumes a session, python -m al.annotate export DIR -o "
              f"FILE exports one", file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        from al.cache import check_cache_root

        check_cache_root()
        with sigterm_stops(), quiet_while("quiet" in args):  # the address alone: no progress, no "... so far"
            return serve(args)
    except ALError as exc:
        message = str(exc)
        named = next((key for key in vars(args) if message.startswith(f"{key} must ")), None)
        if named is not None:  # "initial must be ..." -> "initial (--initial) must be ..."
            message = f"{named} (--{named.replace('_', '-')}){message[len(named):]}"
        print(f"error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:  # before the server ran (SIGTERM: Terminated)
        return stopped(stop)


if __name__ == "__main__":
    from al.cli import exit_with

    exit_with(main)
