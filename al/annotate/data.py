"""What a session labels: texts from a CSV or JSON-lines file, some perhaps labeled already.

The file is read with :func:`al.datasets.tabular.read_rows` (header names
stripped, each row named in errors by its line in the file). Each row is one
text of the pool (a ``split`` column, if any, is ignored: every row is to be
labeled). Labels a row already has come in either shape ``--dataset
csv/jsonl`` reads, picked by the same rule
(:func:`al.datasets.tabular.label_source`; a file with both is refused
until ``--label-columns`` names the ones to read):

* one 0/1 column per label, named as the label; a row with every label
  column filled is labeled, a row with none filled is not;
* a ``labels`` column listing each text's labels (a JSON list, or a string
  joined by ``--label-sep``, default ``|``); empty (null) means not labeled,
  ``[]`` means labeled with none of the labels; a null or blank item names no label.

How a session reads its files (``--text-column``, ``--label-sep``,
``--label-columns``: a :class:`Reading`) is recorded when it starts, in its
database (:data:`al.annotate.store.READING_KEY`); a resume and the export
read the files the same way, and refuse an option given that says otherwise
(:func:`resolve_reading`). A session started before it was recorded there
has its text column and separator in ``config.json``, and its label columns
only when they were named (:func:`old_session_reading`). One that named
none, on a file giving labels both ways, began before the rule: it read the
0/1 columns, then the ``labels`` list overriding them row by row (the union
of the two: :func:`legacy_union_given`), and is read so again, with no option,
once that reading agrees with what the session recorded (:class:`SessionFacts`);
its first resume records it (``"legacy_union": true``). ``--label-columns``
given for such a session must read exactly the same labels, row by row.

An ``id`` column names the texts (else the row number, from 0); an id is a
string or an integer (taken as its decimal string: ``17`` is ``"17"``, and
exported so), any other JSON value (true, 1.5, an object) is refused naming
its line. Ids must be unique, and a session refuses ids longer than :data:`MAX_ID_LENGTH` characters
at start (the page sends a text's id with its answer, in a body of bounded size).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from al.annotate.store import READING_KEY
from al.datasets import TABLE_OPTIONS
from al.datasets.tabular import (LIST_COLUMN, SEPARATORS, Table, as_zero_one, label_list, label_source, read_rows,
                                 read_texts, zero_one_rows)
from al.errors import ConfigError, DataError, did_you_mean

#: Column names a label may not take: the export writes them beside the label columns.
RESERVED = frozenset({"id", "text", "split", "labels", "source"})
#: Longest id a session starts with: an answer carries its text's id, and even escaped to six bytes a character
#: it leaves the rest of a request body (at most 64 KiB) for the labels.
MAX_ID_LENGTH = 4096


#: The options saying how a session reads its files, and their flags (the start command's and the export's).
READING_FLAGS = {"text_column": "--text-column", "label_sep": "--label-sep", "label_columns": "--label-columns"}


#: How sessions read a file giving labels both ways before the label-source rule (see :func:`legacy_union_given`).
LEGACY_UNION = "the 0/1 columns named as the labels, the 'labels' list overriding them row by row"


@dataclass(frozen=True)
class Reading:
    """How a session reads its data and dev files.

    Attributes
    ----------
    text_column : str
    label_sep : str
        What joins the labels of a label-list cell that is not a JSON list.
    label_columns : tuple of str, or None
        The columns holding the labels given already; None: those
        :func:`~al.datasets.tabular.label_source` finds (the columns named as the
        labels, or else the ``labels`` column).
    legacy_union : bool
        Read the labels given as sessions did before the label-source rule
        (:func:`legacy_union_given`; ``label_columns`` is then None): only a session
        that began so on a file giving labels both ways. Recorded only when
        true, so the records of every other session read as before.
    """

    text_column: str = "text"
    label_sep: str = "|"
    label_columns: tuple[str, ...] | None = None
    legacy_union: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text_column": self.text_column, "label_sep": self.label_sep,
                               "label_columns": None if self.label_columns is None else list(self.label_columns)}
        if self.legacy_union:
            out["legacy_union"] = True
        return out


def _shown(key: str, value: Any, legacy_union: bool = False) -> str:
    """An option as its flag gives it (no --label-columns: the rule's own columns, or the union of old)."""
    if key == "label_columns":
        if legacy_union:
            return f"no --label-columns ({LEGACY_UNION}, as the session began)"
        return ("no --label-columns (the columns named as the labels, or else the 'labels' column)" if value is None
                else f"--label-columns {' '.join(map(shlex.quote, value))}")
    return f"{READING_FLAGS[key]} {value!r}"


def recorded_reading(session: Mapping[str, Any], meta: Mapping[str, str], where: str) -> dict[str, Any]:
    """The options a stored session reads its files with, as far as it recorded them.

    Parameters
    ----------
    session : the ``session`` block of its ``config.json``
    meta : its database's ``meta`` table (:func:`al.annotate.store.read_meta`)
    where : names the session in messages

    Returns
    -------
    The keys of :data:`READING_FLAGS` recorded: all of them from the
    database (and ``legacy_union``: True where it records that, see
    :class:`Reading`); from ``config.json`` (sessions from before the database
    recorded them) the text column, the separator (``|`` where none is
    recorded: only another one was), and the label columns where they were named.

    Raises
    ------
    ConfigError
        The database's record is damaged.
    """
    if READING_KEY in meta:
        try:
            value = json.loads(meta[READING_KEY])
            columns = value["label_columns"]
            recorded = {"text_column": value["text_column"], "label_sep": value["label_sep"],
                        "label_columns": None if columns is None else list(columns)}
            legacy = value.get("legacy_union", False)
            if not (isinstance(recorded["text_column"], str) and isinstance(recorded["label_sep"], str)
                    and (columns is None or all(isinstance(c, str) for c in columns))
                    and isinstance(legacy, bool) and not (legacy and columns is not None)):
                raise TypeError
        except (ValueError, TypeError, KeyError, AttributeError):
            raise ConfigError(f"{where} records how it reads its files as {meta[READING_KEY][:200]!r}; expected a "
                              f"JSON object of text_column, label_sep and label_columns (and legacy_union: true "
                              f"with no label_columns); restore the session's database") from None
        if legacy:
            recorded["legacy_union"] = True
        return recorded
    recorded = {"label_sep": session.get("label_sep", "|")}
    for key in ("text_column", "label_columns"):
        if key in session:
            recorded[key] = session[key]
    return recorded


def resolve_reading(recorded: Mapping[str, Any], given: Mapping[str, Any], where: str = "",
                    advice: str = "") -> Reading:
    """The options to read a session's files with: the ones it recorded, else those given, else the defaults.

    Parameters
    ----------
    recorded : :func:`recorded_reading` (``{}`` for a new session)
    given : the options the command line gives (keys of :data:`READING_FLAGS`)
    where : names the session in messages
    advice : what else fixes a conflict (``, or pass another --out``)

    Raises
    ------
    ConfigError
        An option given differs from the recorded one.
    """
    values = Reading().to_dict()
    legacy = bool(recorded.get("legacy_union", False))
    for key, flag in READING_FLAGS.items():
        if key in recorded:
            if key in given and _comparable(given[key]) != _comparable(recorded[key]):
                raise ConfigError(f"{_shown(key, given[key])} differs from how {where} reads its files "
                                  f"({_shown(key, recorded[key], legacy)}); leave {flag} out to read them as it "
                                  f"does{advice}")
            values[key] = recorded[key]
        elif key in given:
            values[key] = given[key]
    columns = values["label_columns"]
    return Reading(values["text_column"], values["label_sep"], None if columns is None else tuple(columns), legacy)


def _comparable(value: Any) -> Any:
    return tuple(value) if isinstance(value, (list, tuple)) else value


@dataclass(frozen=True)
class SessionFacts:
    """What a stored session recorded of the labels its data file gave it: a reading of the file must agree.

    Attributes
    ----------
    n_given : int or None
        Texts labeled in the file, as the session counted them when it began (``config.json``).
    answered : frozenset of int
        Pool positions a person answered (a text labeled in the file is never asked).
    initial : tuple of int, or None
        Round 0's record (None before round 0 ended): the texts it started
        from, those labeled in the file and those drawn for a person.
    labeled_counts : mapping of str to int, or None
        Round 0's record: how many texts of each label it trained on.
    round0 : mapping of int to (tuple of str, bool)
        The answers given in round 0 as round 0 read them: pool position -> (labels, skipped).
    """

    n_given: int | None = None
    answered: frozenset[int] = frozenset()
    initial: tuple[int, ...] | None = None
    labeled_counts: Mapping[str, int] | None = None
    round0: Mapping[int, tuple[tuple[str, ...], bool]] = dataclasses.field(default_factory=dict)

    def disagreement(self, given: Mapping[int, np.ndarray], label_names: Sequence[str],
                     row_name: Callable[[int], str]) -> str | None:
        """How ``given`` (row -> 0/1 labels) disagrees with what the session recorded (the first way), or None.

        ``row_name`` names a pool position in messages (its line of the file).
        Checked: the count of texts labeled; no text labeled is one a person
        answered; round 0 started from exactly the texts labeled and those it
        asked about; and it trained on the label counts they give.
        """
        if self.n_given is not None and len(given) != self.n_given:
            return f"finds {len(given)} texts labeled, but the session counted {self.n_given} when it began"
        asked = sorted(self.answered.intersection(given))
        if asked:
            return (f"gives labels to {row_name(asked[0])}, which a person answered in the session (a text labeled "
                    f"in the file is never asked)")
        if self.initial is None:
            return None
        odd = sorted((set(self.initial) - set(self.round0)).symmetric_difference(given))
        if odd:
            return (f"gives labels to {row_name(odd[0])}, which round 0 did not start from" if odd[0] in given
                    else f"gives no labels to {row_name(odd[0])}, which round 0 started from without asking anyone")
        if self.labeled_counts is None:
            return None
        counts = dict.fromkeys(label_names, 0)
        for i in self.initial:
            labels, skipped = ((tuple(label_names[j] for j in np.flatnonzero(given[i])), False) if i in given
                               else self.round0[i])
            for name in labels if not skipped else ():
                if name in counts:
                    counts[name] += 1
        recorded = {name: self.labeled_counts.get(name) for name in label_names}
        if counts != recorded:
            return (f"gives round 0 the label counts {_counts(counts)}, but the session's round 0 trained on "
                    f"{_counts(recorded)}")
        return None


def _counts(counts: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items())


def old_session_reading(path: str | Path, label_names: Sequence[str], reading: Reading, facts: SessionFacts,
                        where: str) -> Reading:
    """How to read the data file of a session that recorded no label columns (it began before sessions did).

    Where the file gives labels one way only, the session read them by the
    rule (:func:`~al.datasets.tabular.label_source`); columns named now must
    read exactly those. A file giving them both ways (a ``labels`` column and
    columns named as the labels) the session read before the rule refused
    such a file, as :func:`legacy_union_given` does: so it is read again, with
    no option, once that agrees with what the session recorded (``facts``);
    columns named now must then read the same labels, row by row. Where the
    union does not agree (the session was not made so), the columns named
    must agree with ``facts`` instead.

    Parameters
    ----------
    path : the data file the session began with (its digest checked already)
    label_names : sequence of str
    reading : the options resolved (:func:`resolve_reading`); its label columns are those given now, if any
    facts : what the session recorded of the labels it read
    where : names the session in messages

    Returns
    -------
    ``reading``; with ``legacy_union`` set where the union is to be read.

    Raises
    ------
    ConfigError
        One line: what the session read, what came instead, and what to pass or leave out.
    DataError
        The file cannot be read by the columns named.
    """
    table = _table(Path(path))
    named, sep = reading.label_columns, reading.label_sep
    shown = _shown("label_columns", named)
    if not (LIST_COLUMN in table.frame.columns and any(name in table.frame.columns for name in label_names)):
        if named is not None and not _same_rows(_given(table, label_names, sep, named),
                                                _given(table, label_names, sep)):
            raise ConfigError(f"{shown} reads other labels of {path} than {where} read (by the columns named as the "
                              f"labels, or else the 'labels' column); leave --label-columns out")
        return reading
    try:
        union: dict[int, np.ndarray] | None = legacy_union_given(table, label_names, sep)
        wrong = facts.disagreement(union, label_names, table.where)
    except DataError as exc:
        union, wrong = None, f"cannot be read ({exc})"
    if union is not None and wrong is None:
        if named is None:
            return dataclasses.replace(reading, legacy_union=True)
        by_named = _given(table, label_names, sep, named)
        row = _first_difference(by_named, union)
        if row is None:
            return reading
        raise ConfigError(
            f"{shown} reads other labels of {path} than {where} read ({len(union)} texts labeled: {LEGACY_UNION}): "
            f"{table.where(row)} is {_as_read(by_named.get(row), label_names)} by the columns named but "
            f"{_as_read(union.get(row), label_names)} as the session read it; leave --label-columns out to read "
            f"the file as the session did"
        )
    fits = []
    for columns in ([LIST_COLUMN], [name for name in label_names if name in table.frame.columns]):
        if tuple(columns) != named:
            try:
                if facts.disagreement(_given(table, label_names, sep, columns), label_names, table.where) is None:
                    fits.append(_shown("label_columns", columns))
            except DataError:
                continue
    fix = f"pass {' or '.join(fits)}" if fits else "pass --label-columns naming the columns it read its labels from"
    if named is None:
        raise ConfigError(f"{where} recorded no label columns, and {path} gives labels both ways; read as sessions "
                          f"read such a file then ({LEGACY_UNION}), it {wrong}; {fix}")
    named_wrong = facts.disagreement(_given(table, label_names, sep, named), label_names, table.where)
    if named_wrong is not None:
        raise ConfigError(f"{shown} {named_wrong} ({where}, {path}); {fix}")
    return reading


def _first_difference(a: Mapping[int, np.ndarray], b: Mapping[int, np.ndarray]) -> int | None:
    """The first row ``a`` and ``b`` give other labels (or only one of them any), or None."""
    for row in sorted(a.keys() | b.keys()):
        if row not in a or row not in b or not np.array_equal(a[row], b[row]):
            return row
    return None


def _as_read(y: np.ndarray | None, label_names: Sequence[str]) -> str:
    if y is None:
        return "unlabeled"
    return f"labeled {', '.join(label_names[j] for j in np.flatnonzero(y))}" if y.any() else \
        "labeled with none of the labels"


def _same_rows(a: Mapping[int, np.ndarray], b: Mapping[int, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[i], b[i]) for i in a)


@dataclass(frozen=True)
class SessionTexts:
    """The pool of a session.

    Attributes
    ----------
    texts : list of str, length n_pool
    ids : list of str, length n_pool
        Unique; the row's ``id`` column or its row number.
    given : dict of int to ndarray of shape (n_labels,)
        Pool position -> the 0/1 labels the file gives it.
    digest : str
        SHA-256 of the file's bytes (a session refuses a changed file).
    """

    texts: list[str]
    ids: list[str]
    given: dict[int, np.ndarray]
    digest: str

    def index_of(self) -> dict[str, int]:
        return {text_id: i for i, text_id in enumerate(self.ids)}


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_label_names(names: Sequence[str], source: str = "--labels") -> tuple[str, ...]:
    """Label names as given, checked: non-empty, unique, printable, not a reserved column name.

    Raises
    ------
    ConfigError
        Naming the first bad name and what a name must be.
    """
    names = [str(n).strip() for n in names]
    if not names:
        raise ConfigError(f"{source} names no label; give at least one, e.g. --labels food water shelter")
    for name in names:
        if not name or name.lower() in RESERVED or not re.fullmatch(r"[^\x00-\x1f\x7f]{1,64}", name):
            raise ConfigError(
                f"{source}: label {name!r} is not allowed; a label is 1 to 64 printable characters and not one of "
                f"{', '.join(sorted(RESERVED))}"
            )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"{source} lists {', '.join(map(repr, repeated))} more than once; name each label once")
    import warnings

    if len(names) == 1 and len(parts := [p.strip() for p in re.split(r"[,;]", names[0]) if p.strip()]) > 1:
        apart = (f"--labels {' '.join(shlex.quote(p) for p in parts)}" if source == "--labels" else
                 "one per line" if source.startswith("label file") else json.dumps(parts))
        warnings.warn(f"{source} names one label, {names[0]!r}; for {len(parts)} labels give them apart, e.g. "
                      f"{apart}", UserWarning, stacklevel=2)
    folded: dict[str, list[str]] = {}
    for name in names:
        folded.setdefault(name.casefold(), []).append(name)
    if cased := [spellings for spellings in folded.values() if len(spellings) > 1]:
        warnings.warn(f"{source}: {' and '.join(map(repr, cased[0]))} differ in case alone, so they are "
                      f"{len(cased[0])} labels; name one if one is meant", UserWarning, stacklevel=2)
    return tuple(names)


def read_label_file(path: str | Path) -> tuple[str, ...]:
    """One label per line; blank lines and lines starting with ``#`` are ignored."""
    from al.io import read_text

    path = Path(path)
    lines = read_text(path, "label file", "one label per line").splitlines()
    return check_label_names([ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")],
                             f"label file {path}")


def _table(path: Path) -> Table:
    if path.is_file() and not path.read_bytes().strip():
        raise DataError(f"{path} is empty; expected texts to label, one per line (.jsonl) or row (.csv)")
    return read_rows(path)


def _texts(table: Table, text_column: str) -> list[str]:
    texts = read_texts(table, text_column)
    if not texts:
        raise DataError(f"{table.path} holds no texts; expected texts to label")
    return texts


def _given(table: Table, label_names: Sequence[str], label_sep: str,
           label_columns: Sequence[str] | None = None, legacy_union: bool = False) -> dict[int, np.ndarray]:
    """Row -> the 0/1 labels the file gives it, from the columns :func:`~al.datasets.tabular.label_source` picks
    (``legacy_union``: as :func:`legacy_union_given` reads them)."""
    if legacy_union:
        return legacy_union_given(table, label_names, label_sep)
    frame, path = table.frame, table.path
    source = label_source(table, label_columns, names=label_names)
    if source.is_list:
        column = source.columns[0]
        blank = [row for row, value in enumerate(table.frame[column]) if isinstance(value, str) and not value.strip()]
        if blank:  # an empty CSV cell is read as missing (asked); a JSON "" or a CSV cell of spaces is text
            import warnings

            json_lines = table.path.suffix.lower() in (".jsonl", ".ndjson", ".json")
            how = "write null or leave the key out" if json_lines else "leave the cell empty"
            warnings.warn(f"{table.where(blank[0])}"
                          f"{f' and {len(blank) - 1} more row(s)' if len(blank) > 1 else ''}: the {column!r} cell "
                          f"is blank ({table.frame[column].iloc[blank[0]]!r}), read as labeled with none of the "
                          f"labels (as [] is); {how} to have the text asked", UserWarning, stacklevel=2)
        return _listed(table, column, label_names, label_sep)
    given: dict[int, np.ndarray] = {}
    columns = list(source.columns)
    if not columns:
        if guess := did_you_mean(label_names, _zero_one_columns(frame)):  # --labels fod on a file with food
            import warnings

            warnings.warn(f"{path} has no column named as a label ({', '.join(label_names)}), so none of its texts "
                          f"is labeled in the file{guess}; name the labels as its 0/1 columns to read them",
                          UserWarning, stacklevel=2)
        return given
    if label_sep != TABLE_OPTIONS["label_sep"]:
        import warnings

        warnings.warn(f"--label-sep {label_sep!r} is read by nothing: {path}'s labels are 0/1 columns "
                      f"({', '.join(map(str, columns))}), not a column listing them", UserWarning, stacklevel=2)
    others = [c for c in columns if c not in label_names]
    if others:
        raise DataError(f"--label-columns names {', '.join(map(repr, others))}, not among the session's labels "
                        f"({', '.join(label_names)}); name one list column, or 0/1 columns named as the labels")
    filled = frame[columns].notna().to_numpy()
    missing = [n for n in label_names if n not in columns]
    if missing and filled.any():
        guess = did_you_mean(missing, [c for c in _zero_one_columns(frame) if c not in columns])  # fod: food
        raise DataError(f"{path} has label columns for {', '.join(columns)} but not for {', '.join(missing)}"
                        f"{guess}; give every label a column, or use one '{LIST_COLUMN}' column")
    partial = np.flatnonzero(filled.any(axis=1) & ~filled.all(axis=1))
    if len(partial):
        raise DataError(f"{table.where(int(partial[0]))}: some label columns are filled and some empty; fill all "
                        f"of them (0 or 1) or none")
    rows = np.flatnonzero(filled.all(axis=1))
    for row, y in zip(rows, zero_one_rows(table, columns, rows)):
        given[int(row)] = y
    return given


def _listed(table: Table, column: str, label_names: Sequence[str], label_sep: str,
            parse: Callable[[Any, str, str], list[str] | None] = label_list) -> dict[int, np.ndarray]:
    index = {name: j for j, name in enumerate(label_names)}
    given: dict[int, np.ndarray] = {}
    for row, value in enumerate(table.frame[column]):
        listed = parse(value, label_sep, table.where(row))
        if listed is None:
            continue
        unknown = [name for name in listed if name not in index]
        if unknown:
            joined = isinstance(value, str) and not value.strip().startswith("[")  # split at label_sep
            hint = separator_hint(unknown, label_names, label_sep, table.frame[column]) if joined else None
            # split at the separator a label's own name holds (its pieces are the unknown ones): no cell can name it
            holding = [name for name in label_names if label_sep in name and set(name.split(label_sep)) & set(unknown)]
            if joined and holding:
                hint = (f"the label {holding[0]!r} holds the separator {label_sep!r} (--label-sep), so a cell split "
                        f"at it cannot name that label; give another --label-sep, or the cell as a JSON list "
                        f"({json.dumps([holding[0]])})")
            raise DataError(f"{table.where(row)}: label(s) {', '.join(map(repr, unknown))} are not among the "
                            f"session's labels ({', '.join(label_names)})"
                            + (f"; {hint}" if hint else f"{did_you_mean(unknown, label_names)}; fix the row or add "
                                                        f"the label"))
        y = np.zeros(len(label_names), dtype=np.int8)
        y[[index[name] for name in listed]] = 1
        given[row] = y
    return given


def separator_hint(unknown: Sequence[str], label_names: Sequence[str], label_sep: str,
                   cells: Sequence[Any] = ()) -> str | None:
    """How to split a cell whose unknown labels are known ones joined by another separator, or None.

    ``food,shelter`` split at the default ``|`` is one unknown label; split at
    ``,`` it is two known ones. A separator of
    :data:`~al.datasets.tabular.SEPARATORS` (as ``al.simulate`` warns of them,
    :func:`~al.datasets.tabular.separator_note`) is named when at least half
    the parts it splits the unknown labels into are labels (the rest: typos);
    the one splitting out the most labels wins.

    Parameters
    ----------
    unknown : the label names read from one cell that are not among ``label_names``
    label_names : sequence of str
    label_sep : the separator the cell was split at
    cells : the whole column: no separator is named where other cells are
        known labels joined by ``label_sep`` (that file needs the row fixed,
        not another separator, which would misread those cells)
    """
    known = set(label_names)
    best, most = None, 0
    for char in SEPARATORS:
        parts = [part.strip() for name in unknown if char in name for part in name.split(char) if part.strip()]
        hits = sum(part in known for part in parts)
        if hits > most and 2 * hits >= len(parts):
            best, most = char, hits
    if best is None:
        return None
    joined = [c for c in cells if isinstance(c, str) and label_sep in c and not c.strip().startswith("[")]
    if any(all(part.strip() in known for part in cell.split(label_sep) if part.strip()) for cell in joined):
        return None  # other rows are joined by label_sep: another separator would misread them
    flag = "$'\\t'" if best == "\t" else shlex.quote(best)
    return (f"the row's labels look joined by {best!r}, but labels are split at {label_sep!r}: pass --label-sep {flag} "
            f"(or fix the row)")


def _zero_one_columns(frame: Any) -> list[str]:
    """The columns of ``frame`` holding 0 and 1 alone (empty cells aside): those that may be label columns, not the
    text or id columns, for a guess at a misspelt label."""
    return [str(column) for column in frame.columns
            if len(values := frame[column].dropna()) and as_zero_one(values).notna().all()]


def legacy_union_given(table: Table, label_names: Sequence[str], label_sep: str) -> dict[int, np.ndarray]:
    """Row -> the 0/1 labels a file gives it, as sessions read them before the label-source rule.

    That code (up to 3e0488b's parent) read the 0/1 columns named as the
    labels (a row with all of them filled is labeled; some filled and some
    empty, or columns for some labels only, is refused), then the ``labels``
    column: a row whose cell is not null (nor NaN: an empty CSV cell, a key
    left out) takes the labels it lists instead, ``[]`` (or a blank string)
    none of them. So a row labeled by either source is labeled, by the list
    where it has both. Each list item names a label as that code read it
    (:func:`_legacy_label_list`). On a file that code read, this reads what it did.
    """
    columns = [name for name in label_names if name in table.frame.columns]
    given = _given(table, label_names, label_sep, columns) if columns else {}
    if LIST_COLUMN in table.frame.columns:
        given.update(_listed(table, LIST_COLUMN, label_names, label_sep, _legacy_label_list))
    return given


def _legacy_label_list(value: Any, sep: str, where: str) -> list[str] | None:
    """A label-list cell as sessions read it before the label-source rule: every item of a list names a label
    (a null item reads 'None', a blank one '', so a file holding one was refused unless a label is 'None')."""
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value]
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    if text.startswith("["):
        try:
            return [str(v).strip() for v in json.loads(text)]
        except json.JSONDecodeError:
            raise DataError(f"{where}: cannot parse the label list {text!r}; expected a JSON list such as "
                            f"[\"a\", \"b\"], or labels joined by {sep!r}") from None
    return [part.strip() for part in text.split(sep) if part.strip()]


def read_session_texts(
    path: str | Path, label_names: Sequence[str], *, text_column: str = "text", label_sep: str = "|",
    label_columns: Sequence[str] | None = None, legacy_union: bool = False, what: str = "data file",
    max_id_length: int | None = None,
) -> SessionTexts:
    """Read the pool of a session (see the module docstring); ``what`` names the file in messages.

    ``max_id_length``: refuse a longer id (a starting session passes
    :data:`MAX_ID_LENGTH`; export reads what a session labeled, without it).
    ``legacy_union``: read the labels given as :func:`legacy_union_given` does (see :class:`Reading`).

    Raises
    ------
    DataError
        The file is missing, empty, unreadable, lacks the text column, has
        empty texts, repeated or too long ids, or gives labels that are not the session's.
    """
    table, texts = _read(path, label_names, text_column, label_sep, label_columns, what, legacy_union)
    if max_id_length is not None:
        for row, text_id in enumerate(texts.ids):
            if len(text_id) > max_id_length:
                raise DataError(f"{table.where(row)}: id is {len(text_id)} characters long; an id may have at most "
                                f"{max_id_length} (each answer sends it); shorten the ids, or drop the id column "
                                f"(rows are then numbered)")
    return texts


def _read(path: str | Path, label_names: Sequence[str], text_column: str, label_sep: str,
          label_columns: Sequence[str] | None, what: str, legacy_union: bool = False) -> tuple[Table, SessionTexts]:
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{what} {path} is a directory; expected a .csv, .tsv or .jsonl file of texts")
    if not path.is_file():
        raise DataError(f"{what} {path} does not exist; expected a .csv, .tsv or .jsonl file of texts (check the path)")
    table = _table(path)
    texts = _texts(table, text_column)
    if "id" in table.frame.columns:
        ids = _ids(table)
        seen: dict[str, int] = {}
        for row, text_id in enumerate(ids):
            if not text_id:
                raise DataError(f"{table.where(row)}: blank id; give every text an id, or drop the id column "
                                f"(rows are then numbered)")
            if text_id in seen:
                raw = table.frame["id"].iat[row]
                written = f" (written {raw!r}; ids are read stripped of surrounding spaces)" \
                    if isinstance(raw, str) and raw != text_id else ""
                raise DataError(f"{table.where(row)}: id {text_id!r}{written} is on {table.row_name(seen[text_id])} "
                                f"already; ids must be unique")
            seen[text_id] = row
    else:
        ids = [str(i) for i in range(len(texts))]
    given = _given(table, label_names, label_sep, label_columns, legacy_union)
    return table, SessionTexts(texts, ids, given, file_digest(path))


def _ids(table: Table) -> list[str]:
    """The ``id`` column as strings: a string stripped, an integer as its decimal string (``17`` -> ``"17"``), a
    missing or null id as ``""`` (refused as blank by the caller).

    A CSV's ids are strings. A JSON-lines file may hold any JSON value; one
    that is neither a string nor an integer (true, 1.5, an object, a list)
    names no text plainly, and is refused. Where pandas made a column of
    numbers floats (an integer beside a fraction or a null), the ids are read
    again as the file writes them, so that ``17`` is taken and ``17.0`` refused.

    Raises
    ------
    DataError
        One line naming the file's line and the id's type.
    """
    column = table.frame["id"]
    values = _written_ids(table) if column.dtype.kind == "f" and table.lines is not None else list(column)
    ids: list[str] = []
    for row, value in enumerate(values):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            ids.append("")
        elif isinstance(value, str):
            ids.append(value.strip())
        elif isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            ids.append(str(int(value)))
        else:
            shown = json.dumps(value.item() if isinstance(value, np.generic) else value, default=str)
            raise DataError(f"{table.where(row)}: id is {_json_kind(value)} ({shown[:40]}); expected a string or an "
                            f"integer: write each id as a string, e.g. \"id\": \"t17\", or drop the id key (rows "
                            f"are then numbered)")
    return ids


def _json_kind(value: Any) -> str:
    """What JSON value ``value`` is, as a message names it: ``a boolean``, ``an object``..."""
    if isinstance(value, (bool, np.bool_)):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, (float, np.floating)):
        return "a number with a fraction or an exponent"
    return f"a {type(value).__name__}"


def _written_ids(table: Table) -> list[Any]:
    """The ``id`` of each row of a JSON-lines table as the file writes it (header names stripped, as read)."""
    wanted = {int(line) for line in table.lines}
    found: dict[int, Any] = {}
    with open(table.path, encoding="utf-8-sig") as f:
        for number, line in enumerate(f, 1):
            if number in wanted:
                row = json.loads(line)
                found[number] = next((v for k, v in row.items() if str(k).strip() == "id"), None)
    return [found[int(line)] for line in table.lines]


def read_dev(path: str | Path, label_names: Sequence[str], *, text_column: str = "text",
             label_sep: str = "|", label_columns: Sequence[str] | None = None,
             legacy_union: bool = False) -> tuple[list[str], np.ndarray]:
    """A labeled evaluation file: texts and their 0/1 labels (every row must be labeled).

    Read as the session's data file is (``legacy_union``: see :class:`Reading`).

    Returns
    -------
    texts : list of str
    Y : ndarray of shape (n_texts, n_labels), int8
    """
    table, data = _read(path, label_names, text_column, label_sep, label_columns, "dev file", legacy_union)
    unlabeled = [i for i in range(len(data.texts)) if i not in data.given]
    if unlabeled:
        raise DataError(f"dev file {table.where(unlabeled[0])} has no labels (and {len(unlabeled) - 1} more rows); "
                        f"every text of a dev file needs its labels")
    Y = np.stack([data.given[i] for i in range(len(data.texts))])
    return data.texts, Y
