"""Any CSV or JSON-lines file with a text column and label column(s).

Labels come in one of two shapes:

* one 0/1 column per label (``--label-columns a b c``; when none are named,
  every column whose filled cells are all 0 or 1, besides the text, split
  and id columns), or
* one column listing each text's labels: a JSON list, or a string joined by
  ``label_sep`` (default ``|``, ``--label-sep ,`` for ``a,b``), read from a
  column named ``labels`` (or the one column ``--label-columns`` names). A
  name so read that holds another separator (``food,shelter`` split at ``|``)
  is a warning naming the ``--label-sep`` to pass (:func:`separator_note`).

:func:`label_source` is the rule (``al.annotate`` reads its files by it too):
a file with both a ``labels`` column and 0/1 label columns is refused until
``--label-columns`` names the ones to read, and a column not named that is
0/1 in all but a few cells is not read as labels, with a warning naming its
first other value (a label column with a mistake, or a count that is mostly 0/1).

A ``.csv`` is read at commas and a ``.tsv`` at tabs, or at semicolons or the other of
the two where the header, so read, is one column holding that one alone and the
first row splits as the header does (:func:`column_separator`).

Header names (JSON keys) are stripped of surrounding whitespace; a name given
twice is refused. Every error names a row by its line in the file, as an
editor counts it (the header is line 1 of a CSV), not by pandas' count of
records; where the line cannot be told for sure, the error says so.

Splits: a ``split`` column with values ``train`` / ``dev`` (or
``validation``) / ``test`` fixes them. Without it each distinct text (as read:
stripped) goes to a split by a hash of its own UTF-8 bytes (blake2b, read as a
number in [0, 1)): test below 0.1, dev below 0.2, train above, so about 80 /
10 / 10 (:func:`hash_splits`). Repeated texts share one split (none is both in
the pool and in test), a row appended later moves no other row, and no seed
plays a part. In a file so small that a split would be empty, it takes the
text next to it in hash order (3 distinct texts at least; fewer are refused).
A text repeated so often that its copies move a split's share of the rows by
more than 5 points from its share of the distinct texts is a warning
(:func:`duplication_skew`). With the file's own split column, a test text
that also stands in train or dev is a warning (:func:`split_overlap`), and a
``split_column`` (``--split-column``, ``split`` too) that names no column is refused;
without one, a column of split names under another name (``Split``,
``fold``) is a warning naming the flag (:func:`split_like_column`). A split
column that marks train and test texts and no dev text gets a tenth of the
train split's distinct texts as dev, by hash as above, with a warning
(:func:`dev_from_train`). A text
given twice with other labels is a warning (:func:`conflicting_labels`).

Texts are stripped and their ``\\r\\n`` line breaks written ``\\n``, so a file saved
with Windows line endings reads the same (a lone ``\\r`` stays). A 0/1 label column found by the rule
above that holds only zeros (an exported sheet's unused category) is left out
with a warning; one named by ``--label-columns`` is refused.
"""
from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import re
import shlex
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from al.datasets import TABLE_OPTIONS
from al.datasets.corpus import Corpus, make_corpus
from al.errors import DataError, and_more, did_you_mean
from al.progress import counted

SPLIT_ALIASES = {"train": "train", "dev": "dev", "validation": "dev", "valid": "dev", "val": "dev", "test": "test"}
#: The column listing each text's labels, unless ``--label-columns`` names another.
LIST_COLUMN = "labels"
#: Automatic split: a text whose hash falls below the first bound is a test text, below the second a dev text.
HASH_BOUNDS = {"test": 0.1, "dev": 0.2}
#: A column whose filled cells are 0 or 1 except at most this share of them (and at least one) may be a label
#: column with a mistake in it: left out with a warning; more other values make it a column of something else.
STRAY_SHARE = 0.05
#: Characters that join labels in a cell: one inside a label name read from a joined string means, most often,
#: another ``--label-sep`` (:func:`separator_note`).
SEPARATORS = (",", ";", "|", "\t")


@dataclass(frozen=True)
class Table:
    """A data file as read: its rows, and the line of the file each row starts on.

    Attributes
    ----------
    frame : DataFrame, one row per text, header names stripped and unique
    lines : ndarray of int, shape (n_rows,), or None
        Line of the file each row starts on (1 is the first line); None where
        the lines could not be told apart (each row is then named by its count).
    path : Path
    """

    frame: pd.DataFrame
    lines: np.ndarray | None
    path: Path

    def row_name(self, row: int) -> str:
        """``line 7``: row ``row`` (0-based position in the frame) as a person finds it in the file."""
        return f"data row {row + 1}" if self.lines is None else f"line {int(self.lines[row])}"

    def where(self, row: int) -> str:
        """``texts.csv line 7``: the file and :meth:`row_name`."""
        return f"{self.path} {self.row_name(row)}"

    def columns_hint(self, missing: Iterable[str]) -> str:
        """`` (did you mean ...?); columns: a, b``: for a message about absent columns."""
        names = [str(c) for c in self.frame.columns]
        return f"{did_you_mean(missing, names)}; columns: {', '.join(names)}"


def _blank(path: Path) -> bool:
    """Whether the file holds nothing but whitespace, after a UTF-8 byte-order mark an editor may write alone (read
    a line at a time, never whole)."""
    with open(path, "rb") as f:
        return not any(line.removeprefix(b"\xef\xbb\xbf").strip() if n == 0 else line.strip()
                       for n, line in enumerate(f))


def read_table(path: Path) -> pd.DataFrame:
    """A CSV (``.csv``, ``.tsv``) or JSON-lines (``.jsonl``, ``.ndjson``) file as a frame (see :func:`read_rows`)."""
    return read_rows(path).frame


def read_rows(path: str | Path) -> Table:
    """A CSV (``.csv``, ``.tsv``) or JSON-lines (``.jsonl``, ``.ndjson``) file, with the line of each row.

    Raises
    ------
    DataError
        The path is missing, a directory, empty, of another suffix, not UTF-8,
        or does not parse; a header name is given twice; a CSV row has more
        cells than the header. A message names the line of the file at fault
        where it can be told (:func:`_csv_parser_error`), and says so where not.
    """
    path = Path(path)
    if path.is_dir():
        raise DataError(f"data path {path} is a directory; expected a .csv, .tsv or .jsonl file")
    if not path.is_file():
        what = "is not a regular file" if path.exists() else "does not exist"
        raise DataError(f"data path {path} {what}; expected a .csv, .tsv or .jsonl file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xls", ".ods"):
        raise DataError(f"data path {path} is a spreadsheet workbook ({suffix}); expected a .csv, .tsv or .jsonl "
                        f"file: export the sheet as CSV UTF-8 (File > Save As) and give that")
    if suffix in COMPRESSED:
        raise DataError(f"data path {path} is compressed ({suffix}); expected the .csv, .tsv or .jsonl file itself: "
                        f"{COMPRESSED[suffix].format(path=path)} and give the file inside")
    if suffix not in (".csv", ".tsv", ".jsonl", ".ndjson", ".json"):
        raise DataError(f"data path {path} has suffix {suffix!r}; expected .csv, .tsv or .jsonl (or .ndjson, .json "
                        f"with one object a line): save or rename it as one (.csv and .tsv: a table with a header "
                        f"row, .jsonl: one JSON object a line)")
    if suffix in (".csv", ".tsv") and _blank(path):
        raise DataError(f"data path {path} is empty; expected a header row and one row per labeled text")
    try:
        if suffix in (".csv", ".tsv"):
            return _read_csv(path, column_separator(path))
        return _read_json_lines(path)
    except UnicodeDecodeError as exc:
        raise_interrupt(exc)
        raise _not_utf8(path) from None
    except (ValueError, csv.Error, pd.errors.ParserError) as exc:
        raise_interrupt(exc)
        raise DataError(f"cannot parse {path} as {suffix[1:]}: {exc}") from None
    except OSError as exc:
        raise_interrupt(exc)
        raise DataError(f"cannot read {path} ({exc.strerror or exc}); check its permissions") from None


def csv_header(path: str | Path) -> list[str] | None:
    """A CSV or TSV file's header names, stripped, from its first record alone (a settings check reads no more);
    None where that record cannot be read (loading the file says why)."""
    path = Path(path)
    try:
        with contextlib.closing(_records(path, column_separator(path))) as records:
            for _, _, record in records:
                if record and (len(record) > 1 or record[0].strip()):  # the first record that is not blank
                    return [name.strip() for name in record]
    except (DataError, OSError, UnicodeDecodeError):
        return None
    return None


def jsonl_keys_without(path: str | Path, key: str) -> list[str] | None:
    """Every key of a JSON-lines file's objects (stripped, in order of first sight) where none is ``key``; None as
    soon as one object holds ``key``, or where a line cannot be read (loading the file says why). A settings check
    reads no further than the first object that holds it."""
    seen: dict[str, None] = {}
    try:
        with open(path, encoding="utf-8-sig") as lines:
            for line in lines:
                if not line.strip():
                    continue
                row = json.loads(line)
                if not isinstance(row, dict):
                    return None
                keys = [str(k).strip() for k in row]
                if key in keys:
                    return None
                seen.update(dict.fromkeys(keys))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return list(seen)


def raise_interrupt(exc: BaseException) -> None:
    """Raise the :class:`KeyboardInterrupt` that ``exc`` wraps, if any; return otherwise.

    pandas' parser can turn a Ctrl-C that arrives while it reads into a
    ``ParserError`` whose ``__context__`` is the interrupt. A reader calls this
    before wording a parse error, so that an interrupt stays an interrupt (the
    command's own Ctrl-C handling applies) and is never reported as a bad file.
    """
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        cause = pending.pop()
        if cause is None or id(cause) in seen:
            continue
        if isinstance(cause, KeyboardInterrupt):
            raise cause
        seen.add(id(cause))
        pending += [cause.__cause__, cause.__context__]


#: Compressed files by suffix, with how to get the text out (``{path}``: the file).
COMPRESSED = {".gz": "gunzip -k {path}", ".bz2": "bunzip2 -k {path}", ".xz": "unxz -k {path}",
              ".zip": "unzip {path}"}


def _not_utf8(path: Path) -> DataError:
    """The one line for a file that is not UTF-8: what it looks like instead where its first bytes tell (compressed,
    a workbook, UTF-16), else its first byte that is not UTF-8, by line (as an editor counts them), and the 8-bit
    encoding it decodes as."""
    data = path.read_bytes()
    if data.startswith(b"\x1f\x8b"):
        return DataError(f"{path} is gzip-compressed, not text; expected the text file: gunzip -c {path} > "
                         f"{path.with_suffix('')}.uncompressed{path.suffix}, and give that")
    if data.startswith(b"PK\x03\x04"):
        return DataError(f"{path} is a zip archive (an .xlsx workbook?), not text; expected a CSV or JSON-lines "
                         f"file: export the sheet as CSV UTF-8, or unzip it and give the file inside")
    if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        return DataError(f"{path} is UTF-32 text (it begins with a byte-order mark); expected UTF-8: iconv -f UTF-32 "
                         f"-t UTF-8 {path} > {path.with_suffix('')}.utf8{path.suffix}")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return DataError(f"{path} is UTF-16 text (it begins with a byte-order mark, as Excel's 'Unicode text' "
                         f"writes it); expected UTF-8: save it as CSV UTF-8, or iconv -f UTF-16 -t UTF-8 {path} > "
                         f"{path.with_suffix('')}.utf8{path.suffix}")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[:exc.start]
        breaks = re.findall(rb"\r\n|\r|\n", before)
        column = exc.start - max(before.rfind(b"\n"), before.rfind(b"\r"))
        guess = _eight_bit(data)
        converted = f"{path.with_suffix('')}.utf8{path.suffix}"
        return DataError(f"{path} line {1 + len(breaks)} is not UTF-8 text (byte {data[exc.start]:#04x}, byte "
                         f"{column} of the line){guess}; expected UTF-8 text: save the file as UTF-8"
                         + (f" (iconv -f CP1252 -t UTF-8 {path} > {converted})" if guess else
                            f" from the encoding it was written in (iconv -f ENCODING -t UTF-8 {path} > {converted}, "
                            f"ENCODING such as CP1251 or GBK)"))
    return DataError(f"{path} is not UTF-8 text; expected UTF-8 text: save the file as UTF-8")


def _eight_bit(data: bytes) -> str:
    """`` (it reads as CP1252)`` where a file that is not UTF-8 looks like Western European text in Windows-1252:
    it decodes so, and its bytes above 0x7f are a few letters among ASCII ones (accents in words of a Latin
    script). "" otherwise: Cyrillic (CP1251), Greek or Chinese (GBK) text decodes as CP1252 too, every byte of
    its words above 0x7f, and converting it from CP1252 would garble it."""
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return ""
    high = sum(byte > 0x7F for byte in data)
    ascii_letters = sum(65 <= byte <= 90 or 97 <= byte <= 122 for byte in data)
    return " (it reads as CP1252)" if high <= 0.2 * (high + ascii_letters) else ""


#: How :func:`_header` names a column whose header cell is empty (as pandas does): never a label of its own.
UNNAMED = re.compile(r"Unnamed: \d+")


def _header(names: Sequence[Any], path: Path, where: str) -> list[str]:
    """Header names stripped (an empty one named as pandas would); a name given twice is refused."""
    stripped = [str(name).strip() or f"Unnamed: {i}" for i, name in enumerate(names)]
    repeated = sorted({name for name in stripped if stripped.count(name) > 1})
    if repeated:
        raise DataError(
            f"{path} {where} names column(s) {', '.join(map(repr, repeated))} more than once (surrounding spaces "
            f"do not count); give each column its own name"
        )
    return stripped


#: The separators a CSV file's cells may have, by name (:func:`column_separator`).
COLUMN_SEPARATORS = {",": "commas", ";": "semicolons", "\t": "tabs"}


def suffix_separator(path: Path) -> str:
    """What a CSV file's suffix says separates its cells: a tab for ``.tsv``, else a comma."""
    return "\t" if path.suffix.lower() == ".tsv" else ","


def column_separator(path: Path) -> str:
    """What separates a CSV file's cells: its suffix's (:func:`suffix_separator`), or another of the comma, the
    semicolon (a spreadsheet's export where a comma is the decimal mark) and the tab where the header, read at the
    suffix's, is one column holding that one of the other two alone, and the first row after it, read at that
    one, has as many cells as the header (text and labels make two columns at least, so no such file reads at the
    suffix's). A one-column header holding both others, or ``|`` alone, is left to :func:`_read_csv`'s refusal."""
    default = suffix_separator(path)
    try:
        with contextlib.closing(_records(path, default)) as records:
            header = next((record for _, _, record in records if record and (len(record) > 1 or record[0].strip())),
                          None)
        if header is None or len(header) != 1:
            return default
        held = [sep for sep in COLUMN_SEPARATORS if sep != default and sep in header[0]]
        if len(held) != 1:
            return default
        with contextlib.closing(_records(path, held[0])) as records:
            filled = (record for _, _, record in records if record and (len(record) > 1 or record[0].strip()))
            first, row = next(filled, None), next(filled, None)
        return held[0] if first is not None and (row is None or len(row) == len(first)) else default
    except (DataError, OSError, UnicodeDecodeError):  # reading the file at the suffix's separator says why
        return default


def column_separator_note(path: Path) -> str | None:
    """``cells separated by semicolons (...)``: for ``--describe`` of a CSV file read at another separator than its
    suffix's (:func:`column_separator`); None where it is read at that one."""
    default, sep = suffix_separator(path), column_separator(path)
    if sep == default:
        return None
    with open(path, encoding="utf-8-sig", newline="") as lines:
        header = next((line.rstrip("\r\n") for line in lines if line.strip()), "")
    return (f"cells separated by {COLUMN_SEPARATORS[sep]} (read at {sep!r}: at a {path.suffix.lower()}'s "
            f"{COLUMN_SEPARATORS[default]} its header is one column, {header[:60]!r})")


def _read_csv(path: Path, sep: str) -> Table:
    """pandas reads the cells; the csv module finds the header, each row's first line and its cell count."""
    starts: list[int] = []
    header: list[str] | None = None
    header_line = 1
    with contextlib.closing(_records(path, sep)) as records:
        for start, end, record in records:
            if record and (len(record) > 1 or record[0].strip()):  # pandas skips blank lines too
                if header is None:
                    header, header_line = record, start
                    held = [s for s in (",", ";", "\t", "|") if s != sep and len(header) == 1 and s in header[0]]
                    if held:  # a text column and labels make two columns at least (column_separator left it)
                        raise DataError(
                            f"{path}'s header (line {header_line}) is one column, {header[0][:60]!r}, holding "
                            f"{' and '.join(map(repr, held))}: the file looks separated by "
                            f"{repr(held[0]) if len(held) == 1 else 'one of them'}, not {COLUMN_SEPARATORS[sep]}; save "
                            f"it with commas, semicolons or tabs between cells, its header holding no other of them"
                        )
                elif len(record) > len(header):
                    swallowed = end > start and any(sep in line for cell in record
                                                    for line in re.split(r"\r\n|\r|\n", cell)[1:])
                    if swallowed:  # a cell that runs over lines holding the separator: rows read into one cell
                        raise DataError(
                            f"{path} line {start} has {len(record)} cells but the header (line {header_line}) names "
                            f"{len(header)}, read as one row through line {end}: a quote (\") opened on line "
                            f"{start} is likely not closed where its cell ends; close it (a quote inside a cell is "
                            f"written twice: \"\"), or quote a cell that holds {_SEP_NAMES[sep]}"
                        )
                    if end == start and _odd_quotes(path, start):
                        raise DataError(
                            f"{path} line {start} has {len(record)} cells but the header (line {header_line}) names "
                            f"{len(header)}, and an odd number of quotes (\"): a quote opened there is not closed, "
                            f"or a cell that holds {_SEP_NAMES[sep]} is not quoted "
                            f"(12\" screen{_in_example(sep)}great -> "
                            f"\"12\"\" screen{_in_example(sep)}great\"); close it, or quote that cell"
                        )
                    raise DataError(
                        f"{path} line {start} has {len(record)} cells but the header (line {header_line}) names "
                        f"{len(header)}; quote a cell that holds {_SEP_NAMES[sep]} (\"a{_in_example(sep)}b\"), or "
                        f"name every column in the header"
                    )
                else:
                    starts.append(start)
    names = _header(header or [], path, f"header (line {header_line})")
    try:
        # ids as written (their zeros kept), and only an empty cell is missing ("NA" is a text, or a label)
        frame = pd.read_csv(path, sep=sep, encoding="utf-8-sig", header=0, names=names, dtype={"id": str},
                            keep_default_na=False, na_values=[""])
    except pd.errors.ParserError as exc:
        raise_interrupt(exc)
        raise _csv_parser_error(path, sep, exc, header_line, len(names)) from None
    lines = np.asarray(starts, dtype=np.int64) if len(starts) == len(frame) else None
    return Table(frame, lines, path)


_SEP_NAMES = {",": "a comma", ";": "a semicolon", "\t": "a tab"}


def _in_example(sep: str) -> str:
    """The separator as an example cell shows it between two words: ``, `` or ``<tab>``."""
    return "<tab>" if sep == "\t" else f"{sep} "


def _odd_quotes(path: Path, line: int) -> bool:
    """Whether ``line`` of the file (from 1, as :func:`_records` counts) holds an odd number of quotes: one opened
    and not closed on it, where no cell of its row goes on to the next line."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        for number, text in enumerate(re.split(r"\r\n|\r|\n", f.read()), 1):
            if number == line:
                return text.count('"') % 2 == 1
    return False


def _records(path: Path, sep: str) -> Iterator[tuple[int, int, list[str]]]:
    """Each record of a CSV file as the csv module reads it: its first line, its last line, its cells.

    A blank line is a record of no cells (pandas counts it too); lines are
    counted as an editor counts them (LF, CR LF or a lone CR ends one). Close
    the generator when done (``contextlib.closing``): it lifts the csv module's
    cell size limit while it runs.

    Raises
    ------
    DataError
        The csv module refuses a line (named by its number).
    """
    limit = csv.field_size_limit(2**31 - 1)  # a long text is one cell
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f, delimiter=sep)
            start = 1
            try:
                for record in reader:
                    yield start, reader.line_num, record
                    start = reader.line_num + 1
            except csv.Error as exc:
                raise DataError(f"{path} line {reader.line_num} cannot be read as CSV (Python's csv module says: "
                                f"{exc}); expected cells separated by {_SEP_NAMES.get(sep, repr(sep))}, quoted where "
                                f"they hold one: fix that line") from None
    finally:
        csv.field_size_limit(limit)


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _csv_parser_error(path: Path, sep: str, exc: pd.errors.ParserError, header_line: int, n_names: int) -> DataError:
    """pandas' parse error as one line naming the line of the file at fault, or saying that it cannot be told.

    pandas numbers what it calls a line or row by its count of records: one per
    line ending outside a quoted cell, blank lines included, the header too
    (``Expected 3 fields in line N``: the N-th record; ``EOF inside string
    starting at row R``: the record after the first R). A quoted cell over
    several lines is one record, so the count falls behind the file's lines.
    The csv module's records (:func:`_records`) give each record's first line;
    a line is named only where pandas' record is found to be the csv module's
    (the same cells, the same unclosed quote), since the two parsers can split
    a file with unusual line endings differently.
    """
    message = " ".join(str(exc).split())
    sep_name = _SEP_NAMES.get(sep, repr(sep))
    eof = re.search(r"EOF inside string starting at row (\d+)", message)
    fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if eof:
        with open(path, encoding="utf-8-sig", newline="") as f:
            text = f.read()
        n_records, last = 0, []
        with contextlib.closing(_records(path, sep)) as records:
            for _, _, last in records:
                n_records += 1
        # the csv module ends inside a quoted cell too where the file's tail is its last cell, quoted but not closed
        tail = '"' + last[-1].replace('"', '""') if last else ""
        if last and int(eof.group(1)) == n_records - 1 and text.endswith(tail):
            opened = len(text) - len(tail)
            line = 1 + len(_LINE_BREAK.findall(text, 0, opened))
            shown = _LINE_BREAK.split(text[opened:], 1)[0][:40]
            return DataError(
                f"{path} line {line} opens a quoted cell ({shown!r}) that no later line closes (the file ends inside "
                f"it); expected a closing quote: end the cell with \", and write a quote inside a cell as \"\""
            )
        return DataError(
            f"{path} holds a quoted cell that is never closed (the file ends inside it), on a line that cannot be "
            f"told (pandas' parser puts it in its record {int(eof.group(1)) + 1}, counting a quoted cell over "
            f"several lines as one); expected a closing quote for each opening one: end each cell with \", and "
            f"write a quote inside a cell as \"\""
        )
    if fields:
        expected, number, saw = map(int, fields.groups())
        line = _csv_record_line(path, sep, number)
        if line is not None and line[1] == saw and expected == n_names:
            return DataError(
                f"{path} line {line[0]} has {saw} cells but the header (line {header_line}) names {expected}; "
                f"quote a cell that holds {sep_name} (\"a{_in_example(sep)}b\"), or name every column in the header"
            )
        if line is not None and line[1] == saw:  # pandas took another line for the header, or split one otherwise
            return DataError(
                f"{path} line {line[0]} has {saw} cells where pandas' parser expects {expected}, reading a line above "
                f"it otherwise than as the header of {n_names} names on line {header_line}; expected lines ended "
                f"alike: save the file with one kind of line ending (\\n or \\r\\n), and quote a cell that holds "
                f"{sep_name}"
            )
        return DataError(
            f"{path} holds a row of {saw} cells where pandas' parser expects {expected}, on a line that cannot be "
            f"told (pandas counts it as its record {number}, a quoted cell over several lines being one); expected "
            f"as many cells as the header (line {header_line}) names: quote a cell that holds {sep_name}, and save "
            f"the file with one kind of line ending (\\n or \\r\\n)"
        )
    return DataError(
        f"{path} cannot be read as CSV: pandas' parser says {message!r}, on a line it does not name; expected a "
        f"header row, then one row per text with at most as many cells: check for an unclosed quote or mixed line "
        f"endings, or save the file again as CSV (UTF-8)"
    )


def _csv_record_line(path: Path, sep: str, number: int) -> tuple[int, int] | None:
    """First line and cell count of pandas' record ``number`` (1-based), where both parsers read it alike; else None.

    The csv module's record ``number`` is taken for pandas' when pandas, asked
    for that one record alone, reads the same cells.
    """
    found = None
    with contextlib.closing(_records(path, sep)) as records:
        for count, (start, _, record) in enumerate(records, 1):
            if count == number:
                found = start, record
                break
    if found is None:
        return None
    try:
        alone = pd.read_csv(path, sep=sep, encoding="utf-8-sig", header=None, skiprows=number - 1, nrows=1, dtype=str,
                            keep_default_na=False, skip_blank_lines=False)
    except ValueError as exc:  # pandas' ParserError and EmptyDataError among them
        raise_interrupt(exc)
        return None
    if len(alone) != 1 or alone.iloc[0].tolist() != found[1]:
        return None
    return found[0], len(found[1])


def _read_json_lines(path: Path) -> Table:
    """One JSON object per line (blank lines skipped); a bad line is named by its number.

    ``json``'s C scanner reads each line, with one light hook
    (:class:`_LastPairs`) that makes each object a dict (a nested one keeps the
    last value of a key, as in ``json``) and keeps the outermost object's
    pairs: fewer keys than pairs is a key given twice, whose pairs are then
    checked (:func:`_header`). Other keys are checked once per distinct key
    order, not once per line: a file's rows mostly share one.
    """
    last = _LastPairs()
    decode = json.JSONDecoder(object_pairs_hook=last).decode
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    halves: list[int] = []  # lines with a lone surrogate escape (an emoji cut in half), read as U+FFFD
    names: dict[tuple[str, ...], tuple[str, ...] | None] = {}  # keys as written -> stripped (None: unchanged)
    with open(path, encoding="utf-8-sig") as f:  # universal newlines: every line ends in "\n" (the last maybe not)
        for number, line in enumerate(f, 1):
            if line.isspace():
                continue
            try:  # without its line end: an error at the end of the line is at its column, not on "line 2"
                row = decode(line[:-1] if line.endswith("\n") else line)
            except json.JSONDecodeError as exc:
                if line.startswith("\ufeff"):  # files joined together: another file's byte-order mark
                    raise DataError(
                        f"{path} line {number} starts with a byte-order mark (U+FEFF, invisible in most editors), as "
                        f"a file joined to the one above it would; expected one JSON object per line: remove the "
                        f"mark (save each part as UTF-8 without BOM before joining them)"
                    ) from None
                array = (" (the whole file one JSON array, indented? write one object a line: DataFrame.to_json(path, "
                         "orient='records', lines=True))" if number == 1 and line.strip() == "[" else
                         " (the whole file one indented JSON object? write each record as one object on a line of "
                         "its own)" if number == 1 and line.strip() == "{" else "")
                raise DataError(
                    f"{path} line {number} is not JSON ({exc.msg} at column {exc.colno}): {line.strip()[:60]!r}; "
                    f"expected one JSON object per line{array}"
                ) from None
            if not isinstance(row, dict):
                whole = (" (the whole file one JSON array, as pandas' orient='records' writes it? write one object "
                         "a line: DataFrame.to_json(path, orient='records', lines=True))"
                         if number == 1 and isinstance(row, list) and row and isinstance(row[0], dict) else "")
                kind = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "true/false",
                        type(None): "null"}.get(type(row), type(row).__name__)
                raise DataError(f"{path} line {number} holds {kind}, not an object; expected a JSON object{whole}")
            keys = tuple(row)
            if len(keys) < len(last.pairs):  # a key written twice (refused, unless blank: blank keys are "Unnamed: i")
                pairs = last.pairs
                row = dict(zip(_header([key for key, _ in pairs], path, f"line {number}"), (v for _, v in pairs)))
            else:
                if keys in names:
                    stripped = names[keys]
                else:
                    checked = tuple(_header(keys, path, f"line {number}"))
                    stripped = names[keys] = None if checked == keys else checked
                if stripped is not None:
                    row = dict(zip(stripped, row.values()))
            if _SURROGATE_ESCAPE.search(line):  # \\ud83d alone: no UTF-8 for it, so no hash, digest or model input
                whole = _lone_surrogates_replaced(row)
                if whole != row:
                    row = whole
                    halves.append(number)
            rows.append(row)
            lines.append(number)
    if not rows:
        raise DataError(f"{path} holds no JSON lines; expected one JSON object per line")
    if len(rows) == 1 and (held := _records_inside(rows[0])) is not None:  # {"data": [{...}, ...]}: an API's reply
        key, n = held
        raise DataError(f"{path} is one JSON object holding {n:,} records under {key!r}; expected one JSON object per "
                        f"line, a record each: write them so (pandas: pd.DataFrame(json.load(f)[{key!r}]).to_json("
                        f"path, orient='records', lines=True))")
    if halves:
        import warnings

        hold = "holds" if len(halves) == 1 else "hold"
        warnings.warn(f"{path} line {halves[0]}{and_more(len(halves), 1)} {hold} a lone surrogate escape "
                      f"(such as \\ud83d: half of an emoji, a text cut in the middle of one), which no UTF-8 text "
                      f"can hold; read as U+FFFD (\ufffd)", UserWarning, stacklevel=2)
    return Table(pd.DataFrame(rows), np.asarray(lines, dtype=np.int64), path)


#: A JSON escape of a UTF-16 surrogate (``\\ud83d``): a line that has none holds no lone surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _records_inside(row: dict[str, Any]) -> tuple[str, int] | None:
    """``(key, n)`` where a lone JSON object holds a list of ``n`` objects under ``key`` (``{"data": [{...}, ...]}``),
    the records a file meant to hold one a line; else None."""
    if "text" in row:  # a text with a cell of objects (a label cell so written): that cell's message says it
        return None
    for key, value in row.items():
        if isinstance(value, list) and len(value) >= 2 and all(isinstance(v, dict) for v in value):
            return str(key), len(value)
    return None


def _lone_surrogates_replaced(value: Any) -> Any:
    """``value`` (a JSON value) with every lone surrogate in its strings, keys too, replaced by U+FFFD; a pair
    escaped as two (``\\ud83d\\ude00``) is one character already."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_lone_surrogates_replaced(v) for v in value]
    if isinstance(value, dict):
        return {_lone_surrogates_replaced(k): _lone_surrogates_replaced(v) for k, v in value.items()}
    return value


class _LastPairs:
    """``object_pairs_hook``: each JSON object as a dict; the pairs of the last one read kept in :attr:`pairs`.

    The scanner calls it for an object after the objects nested in it, so
    once a line is read :attr:`pairs` are the outermost object's.
    """

    def __init__(self) -> None:
        self.pairs: list[tuple[str, Any]] = []

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        self.pairs = pairs
        return dict(pairs)


# ---------------------------------------------------------------- labels


def _shown(value: Any) -> str:
    """A cell as a message quotes it: ``'yes'``, ``2``, ``[1, 2]`` (a numpy scalar as its Python value)."""
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and value.is_integer():  # 2 in a column pandas read as floats (an empty cell)
        value = int(value)
    return repr(value)


def _missing(value: Any) -> bool:
    """Whether a cell is empty: None, NaN or pandas' NA (a list is a value)."""
    return np.ndim(value) == 0 and bool(pd.isna(value))


def _zero_one_cell(value: Any) -> float:
    """0.0 or 1.0 for a cell that says 0 or 1 (a number, a boolean, the string "0" or "1"); NaN else."""
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value) if value in (0, 1) else np.nan
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return float(value.strip())
    return np.nan


def as_zero_one(column: pd.Series) -> pd.Series:
    """Each cell as 0.0 or 1.0 (numbers, booleans, the strings "0" and "1"); NaN for an empty or any other cell."""
    if pd.api.types.is_bool_dtype(column):
        return column.astype(float)
    if pd.api.types.is_numeric_dtype(column):
        return column.where(column.isin([0, 1])).astype(float)
    return column.map(_zero_one_cell, na_action="ignore").astype(float)


#: Words a spreadsheet writes for 1 and 0: a column of only these is a label column written otherwise.
YES_NO = ({"yes", "no"}, {"y", "n"}, {"true", "false"}, {"t", "f"})


def _yes_no_words(values: pd.Series) -> bool:
    """Whether a column's filled cells (at least one) are all the words of one pair of :data:`YES_NO`."""
    words = {str(v).strip().lower() for v in values[values.notna()]}
    return bool(words) and any(words <= pair for pair in YES_NO)


def _is_zero_one(table: Table, column: str, named: bool = False,
                 yes_no: list[tuple[str, str]] | None = None, unread: list[str] | None = None) -> bool:
    """Whether a column's filled cells (at least one) are all 0 or 1; ``named``: by ``--label-columns``; a column
    of only yes/no words (:data:`YES_NO`) is added to ``yes_no`` where given, else warned of; a column warned of
    (yes/no words, or a few stray cells) is added to ``unread`` where given.

    A column not named that is 0/1 in all but a few cells (:data:`STRAY_SHARE`)
    may be a label column with a mistake in it, or a count or score that is
    mostly 0 or 1: it is not taken as a label column, with a one-line warning
    naming its first other value, so that it is never dropped unsaid.
    """
    values = table.frame[column]
    filled = values.notna().to_numpy()
    odd = np.flatnonzero(filled & as_zero_one(values).isna().to_numpy())
    n_filled = int(filled.sum())
    words = ({str(v).strip().lower() for v in values[filled]}  # labels come from 0/1 columns: this may be one
             if not named and len(odd) == n_filled and LIST_COLUMN not in table.frame.columns else set())
    if words and any(words <= pair for pair in YES_NO):
        said = "/".join(sorted(words, reverse=True))
        if unread is not None:
            unread.append(column)
        if yes_no is not None:
            yes_no.append((column, said))
        else:
            import warnings

            warnings.warn(f"{table.path}: {yes_no_said([column], said)}, not 0 or 1, so {_ONE_NOT_READ} cells as 1 "
                          f"and 0", UserWarning, stacklevel=2)
    if not named and n_filled >= 4 and 0 < len(odd) <= max(1, int(STRAY_SHARE * n_filled)):
        import warnings

        if unread is not None:
            unread.append(column)
        warnings.warn(
            f"{table.where(int(odd[0]))}: column {column!r} holds {_shown(values.iat[int(odd[0])])} where its other "
            f"{n_filled - len(odd)} filled cells are 0 or 1 ({len(odd)} such cell(s)), so it is not read as a label "
            f"column; if it is one, fix the cell, or name the label columns with --label-columns",
            UserWarning, stacklevel=2,
        )
    return n_filled > 0 and not len(odd)


_ONE_NOT_READ = "it is not read as a label column; if it is one, write its"
_SEVERAL_NOT_READ = "they are not read as label columns; if they are, write their"


def yes_no_said(columns: Sequence[str], words: str = "yes/no words") -> str:
    """``column 'spam' holds only yes/no`` / ``columns 'a', 'b' and 3 more hold only yes/no words``."""
    shown = ", ".join(map(repr, columns[:4])) + and_more(len(columns), 4)
    return f"column {shown} holds only {words}" if len(columns) == 1 else f"columns {shown} hold only {words}"


@dataclass(frozen=True)
class LabelSource:
    """Where a file's labels are: one list column, or 0/1 columns (``columns``); neither: no labels. ``unread``:
    columns that look like label columns but for some cells (warned of, not read)."""

    columns: tuple[str, ...]
    is_list: bool
    unread: tuple[str, ...] = ()


def label_source(
    table: Table,
    given: Sequence[str] | str | None = None,
    *,
    names: Sequence[str] | None = None,
    reserved: Iterable[str] = (),
) -> LabelSource:
    """The columns holding a file's labels: the one rule ``al.simulate`` and ``al.annotate`` read a file by.

    Parameters
    ----------
    table : the file
    given : the columns ``--label-columns`` names, or None
        One column that is not 0/1 (with ``names``: not named as a label) is
        a list column; otherwise 0/1 columns. Each must exist.
    names : the labels, where they are known (``al.annotate``)
        Its 0/1 columns are the columns named as a label. Without ``names``
        (``al.simulate``) they are every column outside ``reserved`` whose
        filled cells are all 0 or 1.
    reserved : columns that never hold labels (text, split, id)

    Raises
    ------
    DataError
        A named column is absent; the file holds both a ``labels`` column and
        0/1 label columns and ``given`` is None. (A column not named that is
        0/1 but for a few cells is left out with a warning, :func:`_is_zero_one`.)
    """
    frame = table.frame
    if given is not None:
        given = [given] if isinstance(given, str) else list(given)
        absent = [c for c in given if c not in frame.columns]
        if absent:
            raise DataError(f"{table.path} has no column(s) {', '.join(map(repr, absent))}"
                            f"{table.columns_hint(absent)}; fix --label-columns")
        if len(given) == 1:
            column = given[0]
            listed = column not in names if names is not None else (
                column == LIST_COLUMN or not _is_zero_one(table, column, named=True))
            if listed:
                return LabelSource((column,), True)
        return LabelSource(tuple(given), False)
    unread: list[str] = []  # the rule's near-label columns (with names given, the names say which are labels)
    if names is not None:
        columns = [name for name in names if name in frame.columns]
    else:
        yes_no: list[tuple[str, str]] = []  # (column, its words) of columns of yes/no words: one warning for all
        columns = [c for c in frame.columns if c not in {*reserved, LIST_COLUMN} and _is_zero_one(table, c,
                                                                                               yes_no=yes_no,
                                                                                               unread=unread)]
        unnamed = [c for c in columns if UNNAMED.fullmatch(str(c))]
        if unnamed:
            import warnings

            positions = ", ".join(str(list(frame.columns).index(c) + 1) for c in unnamed)
            warnings.warn(f"{table.path}: column(s) {positions} hold 0/1 values but have no name in the header, so "
                          f"they are not read as labels; name them in the header to read them", UserWarning,
                          stacklevel=2)
            columns = [c for c in columns if c not in unnamed]
        if yes_no and (columns or LIST_COLUMN in frame.columns):  # with no labels read, the refusal names them
            import warnings

            one = len(yes_no) == 1
            words = " or ".join(dict.fromkeys(w for _, w in yes_no))
            warnings.warn(f"{table.path}: {yes_no_said([c for c, _ in yes_no], words)}, not 0 or 1, so "
                          f"{_ONE_NOT_READ if one else _SEVERAL_NOT_READ} cells as 1 and 0",
                          UserWarning, stacklevel=2)
    if columns and LIST_COLUMN in frame.columns:
        raise DataError(
            f"{table.path} holds both a {LIST_COLUMN!r} list column and 0/1 label column(s) "
            f"{', '.join(map(repr, columns))}; say which hold the labels: --label-columns {LIST_COLUMN}, or "
            f"--label-columns {' '.join(map(shlex.quote, columns))}"
        )
    unread_columns = tuple(map(str, unread))
    if columns:
        return LabelSource(tuple(columns), False, unread_columns)
    if LIST_COLUMN in frame.columns:
        return LabelSource((LIST_COLUMN,), True, unread_columns)
    return LabelSource((), False, unread_columns)


def label_list(value: Any, sep: str, where: str) -> list[str] | None:
    """The labels one cell lists: a JSON list (or its text), or a string joined by ``sep``; None for an empty cell.

    A null or blank item names no label.
    """
    if isinstance(value, str) and value.strip().startswith("{"):  # a CSV cell's JSON object: refused as JSONL's is
        value = parsed if isinstance(parsed := _mapping(value.strip()), dict) else value
    if isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, dict):
        raise DataError(f"{where}: the label cell holds a mapping ({_shown(value)}); expected a list of label names "
                        f"such as [\"a\", \"b\"] (for {{\"a\": 1, \"b\": 0}}, list the names whose value is 1)")
    elif _missing(value):
        return None
    else:
        text = str(value).strip()
        if not text.startswith("["):
            return [part.strip() for part in text.split(sep) if part.strip()]
        try:
            items = json.loads(text)
        except json.JSONDecodeError:
            items = _python_list(text)  # pandas' to_csv of a list column writes ['a', 'b']
            if items is None:
                raise DataError(f"{where}: cannot parse the label list {text!r}; expected a JSON list such as "
                                f"[\"a\", \"b\"] (or Python's ['a', 'b'], as pandas writes a list), or labels "
                                f"joined by {sep!r}") from None
        if not isinstance(items, list):
            raise DataError(f"{where}: the label list {text!r} is not a list; expected a JSON list such as "
                            f"[\"a\", \"b\"], or labels joined by {sep!r}")
    nested = next((v for v in items if isinstance(v, (list, tuple, dict))), None)
    if nested is not None:
        raise DataError(f"{where}: the label list holds {_shown(nested)}, not a label name; expected a flat list of "
                        f"names such as [\"a\", \"b\"]")
    return [str(v).strip() for v in items if v is not None and str(v).strip()]


def _mapping(text: str) -> Any:
    """``text`` read as JSON or a Python literal (a dict, say), else None."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return _literal(text)


def _literal(text: str) -> Any:
    """``text`` read as a Python literal (parsed, never run), else None."""
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def _python_list(text: str) -> list[Any] | None:
    """``text`` read as a Python list literal of names (``['food', 'storm']``, as pandas' ``to_csv`` writes a list
    cell; strings, numbers and None only), else None. A literal is parsed, never run."""
    items = _literal(text)
    if not isinstance(items, list) or not all(v is None or isinstance(v, (str, int, float)) for v in items):
        return None
    return items


def zero_one_rows(table: Table, columns: Sequence[str], rows: Iterable[int] | None = None,
                  named: bool = True) -> np.ndarray:
    """The 0/1 label matrix of ``columns`` (int8, shape (n_rows, n_columns)), every cell 0 or 1; ``named``:
    the user named the columns (``--label-columns``), else the rule found them.

    Raises
    ------
    DataError
        Naming the first cell (of ``rows``, default all) that is empty or not 0 or 1.
    """
    values = table.frame[list(columns)]
    Y = values.apply(as_zero_one)
    rows = np.arange(len(values)) if rows is None else np.asarray(list(rows), dtype=np.int64)
    bad = Y.iloc[rows].isna().to_numpy()
    if bad.any():
        i, j = np.argwhere(bad)[0]
        row = int(rows[i])
        cell = values.iat[row, j]
        empty = bool(_missing(cell))
        shown = "is empty" if empty else f"holds {_shown(cell)}"
        count = int(values.iloc[rows, j].map(_missing).sum()) if empty else 0
        more = f" ({count:,} of its cells are empty: write 0 in them, an empty cell is not read as 0)" \
            if count > 1 else ""
        leave = ("leave the column out of --label-columns" if named else
                 "name the label columns with --label-columns, leaving it out")
        cell_of = "the cell of " if empty else ""
        raise DataError(f"{table.where(row)}: {cell_of}label column {columns[j]!r} {shown}{more}; expected 0 or 1: "
                        f"write 0 or 1 in each of its cells, or {leave}")
    return Y.iloc[rows].to_numpy(dtype=np.int8)


# ---------------------------------------------------------------- corpus


def load_table(
    path: str | Path,
    *,
    text_column: str = TABLE_OPTIONS["text_column"],
    label_columns: Sequence[str] | str | None = TABLE_OPTIONS["label_columns"],
    label_sep: str = TABLE_OPTIONS["label_sep"],
    split_column: str | None = None,
) -> Corpus:
    """Load a labeled table into a :class:`Corpus` (see the module docstring). ``split_column`` None reads the
    ``split`` column where there is one; a column named, ``split`` too, must be there."""
    split_required = split_column is not None
    split_column = split_column if split_column is not None else TABLE_OPTIONS["split_column"]
    table = read_rows(path)
    path = table.path
    if len(table.frame.index) == 0 and len(table.frame.columns) and path.suffix.lower() in (".csv", ".tsv"):
        raise DataError(f"{path} has a header ({', '.join(map(str, table.frame.columns))}) but no data rows; "
                        f"expected one row per labeled text below it")
    texts = read_texts(table, text_column)
    source = label_source(table, label_columns, reserved={text_column, split_column, "id"})
    if text_column in source.columns:  # the labels would be the model's input: every score a leak
        others = [str(c) for c in table.frame.columns if str(c) != text_column]
        raise DataError(f"{path}: column {text_column!r} is the text column (--text-column) and the label column at "
                        f"once, so the labels would be read as the texts; name the texts' column with --text-column"
                        f"{' or the labels with --label-columns' if label_columns else ''} (the file's other columns: "
                        f"{', '.join(others) or 'none'})")
    if not source.columns:
        columns = [str(c) for c in table.frame.columns if str(c) not in (text_column, split_column, "id")]
        worded = [c for c in columns if not as_zero_one(table.frame[c]).notna().any()
                  and _yes_no_words(table.frame[c])]
        near = [c for c in columns if c.strip().lower() in ("label", "labels", "tags", "categories", "category")]
        fix = (f"{yes_no_said(worded)}: write the cells of the label columns as 1 and 0" if worded
               else f"for a column listing each text's labels, as {LIST_COLUMN!r} would: --label-columns "
                    f"{shlex.quote(near[0])}" if near else "name them with --label-columns")
        raise DataError(
            f"{path} has no 0/1 label columns and no {LIST_COLUMN!r} column; {fix} "
            f"(its columns besides the text, split and id: "
            f"{', '.join(columns[:8]) + and_more(len(columns), 8) if columns else 'none'})"
        )
    if source.is_list:
        Y, names = _from_label_lists(table, source.columns[0], label_sep)
    else:
        if label_sep != TABLE_OPTIONS["label_sep"]:
            raise DataError(f"--label-sep {label_sep!r} is read by nothing: {path}'s labels are 0/1 columns "
                            f"({', '.join(map(str, source.columns))}), not a column listing them; leave --label-sep "
                            f"(data_options label_sep) out")
        Y, names = zero_one_rows(table, source.columns, named=label_columns is not None), list(map(str, source.columns))
    if (note := conflicting_labels(texts, Y)) is not None:
        import warnings

        warnings.warn(f"{path}: {note}", UserWarning, stacklevel=2)
    never = [name for name, count in zip(names, Y.sum(axis=0)) if count == 0]
    if never and label_columns is not None:  # named by the user: a column of zeros is a mistake to say
        raise DataError(
            f"{path}: label column(s) {', '.join(map(repr, never))} hold only zeros; expected at least one "
            f"positive text per label: leave {'it' if len(never) == 1 else 'them'} out of --label-columns"
        )
    if never:  # an exported sheet's unused category: no text to learn it from, nothing to score
        import warnings

        keep = [j for j, name in enumerate(names) if name not in never]
        if not keep:
            raise DataError(f"{path}: every label column ({', '.join(map(repr, never))}) holds only zeros; expected "
                            f"at least one positive text per label")
        warnings.warn(f"{path}: label column(s) {', '.join(map(repr, never))} hold only zeros, so no text carries "
                      f"{'it' if len(never) == 1 else 'them'}: left out", UserWarning, stacklevel=2)
        Y, names = Y[:, keep], [names[j] for j in keep]
    splits = _splits(table, texts, split_column, split_required)
    return make_corpus(path.stem, texts, Y, names, splits, left_out_labels=never, unread_columns=source.unread)


def read_texts(table: Table, text_column: str) -> list[str]:
    """The text column, each text stripped and its Windows line breaks (``\\r\\n`` inside quoted cells) written
    ``\\n``: a file saved with Windows line endings reads the same texts, split and digest as one saved with
    ``\\n``. A lone ``\\r`` stays as it is.

    Raises
    ------
    DataError
        The column is absent, or a text is blank or missing (the first named by its line).
    """
    frame = table.frame
    if text_column not in frame.columns:
        raise DataError(f"{table.path} has no text column {text_column!r}{table.columns_hint([text_column])}; "
                        f"name it with --text-column")
    column = frame[text_column]
    if column.dtype == object:  # a JSON line's list, object or true/false would be read as its Python spelling
        kinds = column.map(lambda v: isinstance(v, (list, dict, bool))).to_numpy(dtype=bool)
        if kinds.any():
            first = int(np.flatnonzero(kinds)[0])
            value = column.iloc[first]
            kind = {list: "a list", dict: "an object"}.get(type(value), "true or false")
            raise DataError(f"{table.where(first)}: the text in column {text_column!r} is {kind} "
                            f"({_shown(value)[:60]}; {counted(int(kinds.sum()), 'such row')}); expected a string: "
                            f"write each text as one string (join its parts), or name the text's column with "
                            f"--text-column")
    if column.dtype == object:  # a JSON line's number: read as its digits, which an id in the wrong field is too
        numbers = column.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v == v)
        if numbers.any():
            import warnings

            first = int(np.flatnonzero(numbers.to_numpy(dtype=bool))[0])
            warnings.warn(f"{table.where(first)}: the text in column {text_column!r} is a number "
                          f"({_shown(column.iloc[first])}; {counted(int(numbers.sum()), 'such row')}), read as the "
                          f"text {str(column.iloc[first])!r}; if it is an id or a score, fix those rows, or name the "
                          f"texts' column with --text-column", UserWarning, stacklevel=3)
    texts = column.fillna("").astype(str).str.replace("\r\n", "\n", regex=False).str.strip()
    empty = np.flatnonzero(texts.str.len().to_numpy() == 0)
    if len(empty):
        raise DataError(f"{table.where(int(empty[0]))}: empty text in column {text_column!r} (blank or missing; "
                        f"{len(empty)} such row(s)); remove or fill them")
    if len(texts) > 2 and as_zero_one(frame[text_column]).notna().all():
        raise DataError(f"{table.path}: the text column {text_column!r} holds only 0 and 1, as a label column does; "
                        f"expected the texts: name their column with --text-column")
    if column.dtype.kind in "iuf" and len(column) > 2:  # ids or scores, not texts
        raise DataError(f"{table.path}: the text column {text_column!r} holds only numbers ({_shown(column.iloc[0])} "
                        f"on {table.row_name(0)}); expected the texts: name their column with --text-column")
    return texts.tolist()


#: Rows from which a list column where nearly every row has a label of its own is warned of as an id column.
MIN_ROWS_FOR_ID_CHECK = 20


#: A list column's cell that is one of these, whole, may be an empty cell written as text (``str(None)``, pandas'
#: ``astype(str)`` of NaN, a JSON null as text): read as the label it names, with a warning (a run made on such a
#: file reads the same corpus again).
MISSING_SPELLINGS = frozenset({"None", "nan", "NaN", "null"})


def _from_label_lists(table: Table, column: str, sep: str) -> tuple[np.ndarray, list[str]]:
    """The label matrix and names of a list column; a separator inside names read from joined strings is a
    warning (:func:`separator_note`)."""
    lists: list[list[str]] = []
    joined: dict[str, int] = {}  # a label name read from a string joined by sep -> its texts
    spelt_missing: list[int] = []  # rows whose whole cell is "None" or "nan": an empty cell written as text?
    for row, value in enumerate(table.frame[column]):
        if isinstance(value, str) and value.strip() in MISSING_SPELLINGS:
            spelt_missing.append(row)
        labels = label_list(value, sep, table.where(row)) or []
        lists.append(labels)
        if isinstance(value, str) and not value.strip().startswith("["):
            for label in set(labels):
                joined[label] = joined.get(label, 0) + 1
    if not any(isinstance(value, str) and sep in value for value in table.frame[column]):  # sep joins no cell
        refuse_joined_names(joined, {label for labels in lists for label in labels}, sep,
                            f"{table.path} column {column!r}")
    note = separator_note(joined, sep)
    if note is not None:
        import warnings

        warnings.warn(f"{table.path} column {column!r}: {note}", UserWarning, stacklevel=3)
    if spelt_missing:
        import warnings

        spellings = sorted({str(table.frame[column].iloc[row]).strip() for row in spelt_missing})
        warnings.warn(f"{table.where(spelt_missing[0])}{and_more(len(spelt_missing), 1)}: column {column!r} holds "
                      f"{' or '.join(map(repr, spellings))}, as str(None), pandas' astype(str) or an export of a "
                      f"database's or JSON's null write an empty cell, "
                      f"and it is read as a label of that name; if such cells mean no label, leave them empty",
                      UserWarning, stacklevel=3)
    rows_of = Counter(label for labels in lists for label in set(labels))  # label -> the rows that carry it
    names = sorted(rows_of)
    if not names:  # a corpus of no label: nothing to learn, and no label to pick or name
        raise DataError(f"{table.path} column {column!r} is empty in all {len(lists):,} rows: no text has a label; "
                        f"expected each text's labels, a list or joined by {sep!r} (e.g. water{sep}food), or name the "
                        f"0/1 label columns with --label-columns")
    if len(lists) >= MIN_ROWS_FOR_ID_CHECK and sum(n == 1 for n in rows_of.values()) >= 0.9 * len(lists):
        # 't0', 't1'...: nearly every row names a label no other row has, its own name
        import warnings

        warnings.warn(f"{table.path} column {column!r} holds {len(names):,} distinct labels in {len(lists):,} rows "
                      f"(such as {', '.join(map(repr, names[:3]))}): an id or text column rather than labels? name "
                      f"the column(s) that hold the labels with --label-columns (the file's columns: "
                      f"{', '.join(map(str, table.frame.columns[:8]))}{and_more(len(table.frame.columns), 8)})",
                      UserWarning, stacklevel=3)
    index = {name: j for j, name in enumerate(names)}
    Y = np.zeros((len(lists), len(names)), dtype=np.int8)
    for i, labels in enumerate(lists):
        Y[i, [index[label] for label in labels]] = 1
    return Y, names


def joining_separator(names: Iterable[str]) -> tuple[str, list[str]] | None:
    """The one of :data:`SEPARATORS` that most label ``names`` hold (ties: the earlier), with those names; None if
    no name holds one: labels read from a joined string but split at another separator."""
    names = list(names)
    holding = {char: [name for name in names if char in name] for char in SEPARATORS}
    holding = {char: found for char, found in holding.items() if found}
    if not holding:
        return None
    char = max(holding, key=lambda c: (len(holding[c]), -SEPARATORS.index(c)))
    return char, holding[char]


def separator_flag(char: str) -> str:
    """``char`` as the shell takes it after ``--label-sep``: ``';'``, ``$'\\t'``."""
    return "$'\\t'" if char == "\t" else shlex.quote(char)


def refuse_joined_names(joined: dict[str, int], names: set[str], sep: str, where: str) -> None:
    """Refuse label names that are other label names of the file joined by a separator (``food, water`` beside
    ``food`` and ``water``), two or more: split at ``sep`` they are one label each, and a text of ``food, water``
    is no text of ``food`` (a multi-label file read as another task, whatever labels are picked). Called only
    where ``sep`` joins no cell of the column: a file that joins its labels with ``sep`` may name a label
    ``Food, drink`` beside ``Food`` and ``Drink``.

    A cell written as a JSON list (``["food, water"]``) is not split, so names that hold a separator are kept
    that way.
    """
    if (joining := joining_separator(joined)) is None:
        return
    char, found = joining
    evident = [name for name in found if len(parts := [p.strip() for p in name.split(char)]) > 1
               and all(part in names and part != name for part in parts)]
    if len(evident) < 2:
        return
    example = max(evident, key=lambda name: (joined[name], name))
    flag = separator_flag(char)
    raise DataError(
        f"{where}: {len(evident)} label names are other labels of the file joined by {char!r}, e.g. {example!r} (on "
        f"{joined[example]:,} text(s)), where labels are split at {sep!r}: read so, a text of {example!r} is a text "
        f"of neither {' nor '.join(repr(part.strip()) for part in example.split(char)[:2])}; pass --label-sep {flag} "
        f"(in YAML: data_options: "
        f"{{label_sep: {json.dumps(char)}}}), or, if such names are labels of their own, write those cells as JSON "
        f"lists ([\"{example}\"])")


def separator_note(names: dict[str, int], sep: str) -> str | None:
    """What is wrong where label names split at ``sep`` hold a separator (:data:`SEPARATORS`); else None.

    ``food,shelter`` read with the default ``|`` is one label, not two; so is
    ``food|shelter`` read with ``--label-sep ,``, and ``food;shelter`` with
    ``--label-sep "; "`` (a name never holds ``sep`` itself: it is split
    there). Names the separator that most names hold, one of them (the one on
    most texts) and the option that splits at it.

    Parameters
    ----------
    names : each label name read from a joined string, with its count of texts
    sep : the separator in use
    """
    if (joining := joining_separator(names)) is None:
        return None
    char, found = joining
    example = min(found, key=lambda name: (-names[name], name))
    flag = separator_flag(char)
    return (f"{len(found)} label name(s) hold {char!r}, e.g. {example!r} (on {names[example]} text(s)), where labels "
            f"are split at {sep!r} (--label-sep); expected one label per name: if {char!r} joins the labels, pass "
            f"--label-sep {flag} (in YAML: data_options: {{label_sep: {json.dumps(char)}}}); if it is part of "
            f"the names, ignore this")


def text_hash(text: str) -> float:
    """blake2b of a text's UTF-8 bytes as a number in [0, 1): the same text, the same number, on any machine."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def hash_splits(texts: Sequence[str]) -> dict[str, np.ndarray]:
    """Row indices of each split when every distinct text goes where its :func:`text_hash` falls (see the module).

    The distinct texts in the order of their hashes are test, then dev, then
    train. Where that would leave a split empty (a small file: each of test and
    dev gets a text with chance 1 in 10), the split takes the distinct text
    next to it in that order, so every split holds at least one.

    Raises
    ------
    DataError
        Fewer than 3 distinct texts (one per split).
    """
    hashes = {text: text_hash(text) for text in set(texts)}
    distinct = sorted(hashes, key=lambda text: (hashes[text], text))
    m = len(distinct)
    if m < len(HASH_BOUNDS) + 1:
        raise DataError(f"{m} distinct text(s) cannot be split into train, dev and test; the automatic split needs "
                        f"at least 3 distinct texts (a few dozen for a useful one)")
    u = np.array([hashes[text] for text in distinct])
    end_test = max(int(np.searchsorted(u, HASH_BOUNDS["test"])), 1)
    end_dev = min(max(int(np.searchsorted(u, HASH_BOUNDS["dev"])), end_test + 1), m - 1)
    end_test = min(end_test, end_dev - 1)
    rank = {text: r for r, text in enumerate(distinct)}
    ranks = np.fromiter((rank[text] for text in texts), dtype=np.int64, count=len(texts))
    return {"train": np.flatnonzero(ranks >= end_dev), "dev": np.flatnonzero((ranks >= end_test) & (ranks < end_dev)),
            "test": np.flatnonzero(ranks < end_test)}


def dev_from_train(splits: dict[str, np.ndarray], texts: Sequence[str]) -> dict[str, np.ndarray]:
    """``splits`` with a tenth of the train split's distinct texts (at least one, and one left) moved to dev: those
    first in :func:`text_hash` order, so a repeated text's rows stay together, a row appended later moves no other
    row, and no seed plays a part (a file's split column that marks train and test alone). As they are where the
    train split holds fewer than two distinct texts: none can go and leave one."""
    train = splits["train"]
    distinct = sorted({texts[i] for i in train}, key=lambda text: (text_hash(text), text))
    if len(distinct) < 2:
        return splits
    n_dev = min(max(int(np.ceil(len(distinct) / 10)), 1), len(distinct) - 1)
    dev_texts = set(distinct[:n_dev])
    to_dev = np.fromiter((texts[i] in dev_texts for i in train), dtype=bool, count=len(train))
    return {"train": train[~to_dev], "dev": train[to_dev], "test": splits["test"]}


def _splits(table: Table, texts: Sequence[str], split_column: str, required: bool) -> dict[str, np.ndarray]:
    frame, path = table.frame, table.path
    if split_column in frame.columns:
        raw = frame[split_column].astype(object)
        cells = raw.map(lambda v: str(v).strip().lower(), na_action="ignore")
        unknown = np.flatnonzero(~cells.isin(list(SPLIT_ALIASES)).to_numpy())
        if len(unknown):
            first = int(unknown[0])
            shown = "an empty cell" if _missing(raw.iat[first]) else _shown(raw.iat[first])
            others = sorted({_shown(v) for v in raw.iloc[unknown] if not _missing(v)})
            values = f"; values {', '.join(others)}" if others else ""
            raise DataError(
                f"{table.where(first)}: column {split_column!r} holds {shown} ({len(unknown)} such row(s){values}); "
                f"expected train, dev (or validation), test in every row"
            )
        mapped = cells.map(SPLIT_ALIASES).to_numpy()
        splits = {s: np.flatnonzero(mapped == s) for s in ("train", "dev", "test")}
        if not len(splits["dev"]) and len(splits["test"]) and len((splits := dev_from_train(splits, texts))["dev"]):
            import warnings

            warnings.warn(f"{path} column {split_column!r} marks train and test texts and no dev text: "
                          f"{len(splits['dev']):,} of its {len(splits['dev']) + len(splits['train']):,} train texts "
                          f"(a tenth of its distinct texts, by a hash of each) are dev, for the labels' eligibility, "
                          f"tuned thresholds and early stopping; mark dev rows in that column to choose them",
                          UserWarning, stacklevel=3)
        if (note := split_overlap(texts, splits)) is not None:
            import warnings

            warnings.warn(f"{path} column {split_column!r}: {note}", UserWarning, stacklevel=3)
        return splits
    if required:
        raise absent_split_column(path, split_column, [str(c) for c in frame.columns])
    if (column := split_like_column(table)) is not None:
        import warnings

        warnings.warn(f"{path}: column {column!r} holds only split names (train, dev, test), but the split read is "
                      f"the {split_column!r} column's, which the file lacks, so each text goes where its hash falls; "
                      f"to split by {column!r}: --split-column {shlex.quote(column)}", UserWarning, stacklevel=3)
    try:
        splits = hash_splits(texts)
    except DataError as exc:
        raise DataError(f"{path}: {exc}; add a {split_column!r} column (train, dev, test), or more texts") from None
    skew = duplication_skew(texts, splits)
    if skew is not None:
        import warnings

        warnings.warn(f"{path}: {skew}; add a {split_column!r} column (train, dev, test) to choose the splits",
                      UserWarning, stacklevel=3)
    return splits


def split_like_column(table: Table) -> str | None:
    """The first column whose every cell names a split (``Split``, ``fold``, ``set``: train, dev or validation,
    test), which the automatic split leaves unread; None when there is none."""
    for column in table.frame.columns:
        values = table.frame[column]
        if pd.api.types.is_numeric_dtype(values) or values.isna().any():  # bool is numeric too
            continue
        names = list(SPLIT_ALIASES)
        if not values.iloc[:50].map(lambda v: str(v).strip().lower()).isin(names).all():
            continue  # a text column is passed over on its first cells, not mapped whole
        cells = values.map(lambda v: str(v).strip().lower())
        if cells.isin(names).all() and cells.nunique() >= 2:
            return str(column)
    return None


#: Column names that say a column holds splits, whatever its cells (``fold`` is nearer ``food`` in spelling).
SPLIT_COLUMN_WORDS = frozenset({"split", "splits", "fold", "set", "subset", "partition"})


def absent_split_column(path: str | Path, column: str, names: Sequence[str]) -> DataError:
    """The one line for a ``split_column`` that names none of the file's columns ``names``."""
    named = [n for n in names if n.strip().lower() in SPLIT_COLUMN_WORDS and n != column]  # before a near spelling
    # a near spelling only where it is close: 'fold' is no typo of a label column 'food'
    guess = f" (did you mean {named[0]}?)" if named else did_you_mean([column], names, cutoff=0.85)
    return DataError(f"{path} has no split column {column!r}{guess}; columns: "
                     f"{', '.join(names)}; fix --split-column (data_options split_column), or leave it out for the "
                     f"automatic split")


def split_overlap(texts: Sequence[str], splits: dict[str, np.ndarray]) -> str | None:
    """What is wrong where a file's own split puts a text both in test and in train or dev; else None.

    The scores on the test split then count texts the classifier was trained
    on (train), or tuned on (dev). The automatic split never does this.
    """
    test = {texts[i] for i in splits["test"]}
    shared = sorted(test & {texts[i] for name in ("train", "dev") for i in splits[name]})
    if not shared:
        return None
    return (f"{len(shared)} test text(s) also stand in the train or dev split, e.g. {shared[0][:60]!r}, so the test "
            f"scores count texts the classifier learned from; expected each text in one split: move or remove "
            f"the copies")


def conflicting_labels(texts: Sequence[str], Y: np.ndarray) -> str | None:
    """What is wrong where one text is given twice with other labels; else None.

    Duplicates are data, but a text whose copies disagree is a labeling mistake
    (or two annotators) the classifier learns both ways.
    """
    first: dict[str, int] = {}
    conflicting: dict[str, None] = {}
    for i, text in enumerate(texts):
        j = first.setdefault(text, i)
        if j != i and not np.array_equal(Y[i], Y[j]):
            conflicting.setdefault(text)
    if not conflicting:
        return None
    example = next(iter(conflicting))
    return (f"{len(conflicting)} text(s) stand more than once with other labels, e.g. {example[:60]!r}; kept as "
            f"given: if a copy is a mistake, fix or remove it")


#: How far (in shares of the rows) repeated texts may move a split from its share of the distinct texts unremarked.
SKEW_TOLERANCE = 0.05


def duplication_skew(texts: Sequence[str], splits: dict[str, np.ndarray]) -> str | None:
    """What repeated texts did to the automatic split, if they moved a split's share of the rows by more than
    ``SKEW_TOLERANCE`` (and 10 rows) from its share of the distinct texts; else None.

    Each distinct text goes to one split, so a text written many times takes
    all its copies there: a split can hold far more (or fewer) rows than its
    share of the texts. A small file's shares of distinct texts are left as
    they fall (no duplicates, no remark).
    """
    n_rows = len(texts)
    n_distinct = len(set(texts))
    if n_distinct == n_rows or n_rows == 0:
        return None
    shares = []
    for name in ("train", "dev", "test"):
        rows = splits[name]
        row_share = len(rows) / n_rows
        distinct_share = len({texts[i] for i in rows}) / n_distinct
        if abs(row_share - distinct_share) > SKEW_TOLERANCE and abs(row_share - distinct_share) * n_rows >= 10:
            shares.append(f"{name} {row_share:.0%} of the rows ({distinct_share:.0%} of the distinct texts)")
    if not shares:
        return None
    counts: dict[str, int] = {}
    for text in texts:
        counts[text] = counts.get(text, 0) + 1
    top = max(counts.values())
    return (f"the automatic split puts {', '.join(shares)}: {n_rows - n_distinct} rows repeat a text (one text "
            f"{top} times) and each distinct text stays in one split with all its copies")
