"""Label reduction as in the class-embedding paper: k frequent + k rare labels.

References
----------
Wertz et al., "Evaluating Pre-Trained Sentence-BERT with Class Embeddings in
Active Learning for Multi-Label Text Classification", AACL-IJCNLP 2022, sec. 4.1.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from al.datasets.corpus import SPLITS, Corpus, make_corpus
from al.errors import DataError, LabelPickError, and_more, did_you_mean
from al.progress import counted

#: A label is *eligible* only if it has at least this many texts in the pool...
MIN_POOL_TEXTS = 20
#: ...and at least this many in the dev and in the test split...
MIN_EVAL_TEXTS = 10
#: A label ``python -m al.analyze`` is asked for by name needs this many pool texts alone (one labeled and one
#: unlabeled, at the least): the analysis reads no dev or test text and measures no F1.
MIN_ANALYSIS_POOL_TEXTS = 2
#: ...and sit on at most this share of the pool: a label on more than half of
#: all texts is an umbrella ("related" in Disaster Response is on 97% of the
#: texts that carry any category), which label reduction would make constant.
MAX_POOL_SHARE = 0.5
#: A label left out whose name is this close to a kept label's (:func:`difflib.get_close_matches`, case aside)
#: may be a misspelling of it: fod/food (0.86) and heat/wheat (0.89) are, floods/food (0.8) and
#: aid_related/related (0.78) are not.
LOOKALIKE_CUTOFF = 0.85
#: How many labels a message lists before "and N more".
SHOWN_LABELS = 12


def eligible_labels(
    corpus: Corpus, min_pool: int = MIN_POOL_TEXTS, min_eval: int = MIN_EVAL_TEXTS
) -> np.ndarray:
    """Indices of labels frequent enough to be learned and measured.

    Returns
    -------
    ndarray of int, label indices with ``>= min_pool`` texts in ``train``,
    ``>= min_eval`` texts in each of ``dev`` and ``test``, and on at most
    ``MAX_POOL_SHARE`` of the ``train`` texts.
    """
    pool_counts = corpus.label_counts("train")
    ok = (pool_counts >= min_pool) & (pool_counts <= MAX_POOL_SHARE * len(corpus.splits["train"]))
    for split in ("dev", "test"):
        ok &= corpus.label_counts(split) >= min_eval
    return np.flatnonzero(ok)


def binary_eligible(corpus: Corpus, min_pool: int = MIN_POOL_TEXTS, min_eval: int = MIN_EVAL_TEXTS) -> np.ndarray:
    """Indices of labels that can be named alone (``--labels spam``): a binary task, every text kept, its texts
    without the label its negatives. Each side needs ``>= min_pool`` pool texts and ``>= min_eval`` texts in dev
    and in test; no cap on the share (a label on 65 % of the texts is a 65/35 task, not a constant)."""
    ok = np.ones(corpus.n_labels, dtype=bool)
    for split, least in (("train", min_pool), ("dev", min_eval), ("test", min_eval)):
        positives = corpus.label_counts(split)
        ok &= (positives >= least) & (len(corpus.splits[split]) - positives >= least)
    return np.flatnonzero(ok)


def pick_frequent_rare(
    corpus: Corpus,
    n_frequent: int = 5,
    n_rare: int = 5,
    min_pool: int = MIN_POOL_TEXTS,
    min_eval: int = MIN_EVAL_TEXTS,
    user_file: bool = False,
    analysis: bool = False,
) -> list[str]:
    """Names of the ``n_frequent`` most and ``n_rare`` least frequent eligible labels.

    Frequency is the count of texts in the pool (``train`` split). *Rare* means
    least frequent among the eligible labels (:func:`eligible_labels`), so every
    kept label has at least ``min_pool`` texts in the pool and ``min_eval`` in dev
    and test: rare enough to be hard, frequent enough to be measured. Ties are
    broken by label name. Returned frequent first (descending), then rare
    (ascending). ``user_file``: the corpus is a user's file, whose ``split``
    column a too-few-labels error may suggest; ``analysis``: for ``python -m
    al.analyze``, whose ``--labels`` take labels of fewer texts, as the error says.
    """
    eligible = eligible_labels(corpus, min_pool, min_eval)
    needed = n_frequent + n_rare
    if len(eligible) < needed:
        counts = corpus.label_counts("train")
        others = sorted(set(range(corpus.n_labels)) - set(eligible.tolist()),
                        key=lambda j: (-counts[j], corpus.label_names[j]))
        more = and_more(len(others), SHOWN_LABELS)
        shown = (f"not eligible: {_described(corpus, others[:SHOWN_LABELS])}{more}" if others
                 else "every label of the corpus is eligible" if corpus.n_labels else "the corpus has no label")
        short_of_eval = [j for j in others if min_pool <= counts[j] <= MAX_POOL_SHARE * len(corpus.splits["train"])]
        split = (f", or put more texts of {', '.join(repr(corpus.label_names[j]) for j in short_of_eval[:3])} in "
                 f"dev and test with a split column of the file's (train/dev/test; --split-column)"
                 if short_of_eval and user_file else "")
        n = len(eligible)
        keep_all = f" (--frequent {n - n // 2} --rare {n // 2} keeps {'it' if n == 1 else f'all {n}'})" if n else ""
        joined = _label_sep_hint([corpus.label_names[j] for j in others]) if user_file else ""
        named = "name the labels with --labels" + (
            f" (al.analyze reads no dev or test text: each needs only {MIN_ANALYSIS_POOL_TEXTS} pool texts here)"
            if analysis else "")
        if n or analysis:
            pick = f"{f'lower --frequent/--rare{keep_all} or ' if n else ''}{named}{split}"
        else:  # with none eligible, no lower count helps a run, nor a label named (it meets the same rule)
            common = all(counts[j] > MAX_POOL_SHARE * len(corpus.splits["train"]) for j in others)
            pick = split.removeprefix(", or ") or ("no label of the corpus meets the rule, each on too much of the "
                                                   "pool: use other data" if common else
                                                   "use a larger corpus: no label has the texts the rule asks for")
        advice = _empty_split_advice(corpus, min_eval, user_file) or f"{joined}{pick}"
        error = LabelPickError(
            f"corpus {corpus.name!r} has {counted(n, 'label')} with "
            f"{_rule(len(corpus.splits['train']), min_pool, min_eval)}, "
            f"but {n_frequent} frequent + {n_rare} rare = {needed} were asked for ({shown}); {advice}"
        )
        if n >= 2 and not joined:  # a plain shortfall, no sign of a misread file
            error.keep_all = (n - n // 2, n // 2)
        raise error
    counts = corpus.label_counts("train")
    names = np.asarray(corpus.label_names, dtype=object)
    # sort by count descending, then name ascending
    order = sorted(eligible, key=lambda j: (-counts[j], names[j]))
    frequent = order[:n_frequent]
    rare = sorted(order[len(order) - n_rare :] if n_rare else [], key=lambda j: (counts[j], names[j]))
    return [names[j] for j in [*frequent, *rare]]


def _label_sep_hint(ineligible: Sequence[str]) -> str:
    """``label names such as 'fire;food' hold ';': if it joins labels, pass --label-sep ';'; else ``, where two
    ineligible labels or more hold one separator (:func:`al.datasets.tabular.joining_separator`): a column of
    labels split at another separator makes one label per combination, too rare each to be eligible (the file's
    reading warns of it too, :func:`~al.datasets.tabular.separator_note`); "" otherwise (one odd 0/1 column name)."""
    from al.datasets.tabular import joining_separator, separator_flag

    joining = joining_separator(ineligible)
    if joining is None or len(joining[1]) < 2:
        return ""
    char, found = joining
    return (f"label names such as {found[0]!r} hold {char!r}: if it joins labels, pass --label-sep "
            f"{separator_flag(char)}; else ")


def _rule(n_pool: int, min_pool: int, min_eval: int) -> str:
    """``>= 20 pool texts, >= 10 dev and >= 10 test texts and at most 50% of the 800 pool texts before the label
    reduction`` (the counts a label is picked by: the run's pool is those that carry a kept label)."""
    evaluation = f", >= {min_eval} dev and >= {min_eval} test texts" if min_eval else ""
    return (f">= {min_pool} pool texts{evaluation} and at most {MAX_POOL_SHARE:.0%} of the "
            f"{counted(n_pool, 'pool text')} before the label reduction")


def pool_share(count: int, n_pool: int) -> str:
    """``4%``: a label's share of the pool, to as many places as it takes to tell it from the cap where whole
    percents would read as the cap (126 of 251 texts is ``50.2%``, not ``50%``, which "at most 50%" lets pass)."""
    share = count / max(n_pool, 1)
    places = 0
    while share != MAX_POOL_SHARE and f"{share:.{places}%}" == f"{MAX_POOL_SHARE:.{places}%}" and places < 6:
        places += 1  # 5787 of 11572: 50.008%, never a "50.0%" beside "at most 50%"
    return f"{share:.{places}%}"


def _described(corpus: Corpus, columns: Sequence[int]) -> str:
    """``'a' (pool 30 = 4%, dev 3, test 10), ...``: each label's counts, as the eligibility rule reads them."""
    n_pool = len(corpus.splits["train"])
    counts = {split: corpus.label_counts(split) for split in SPLITS}
    return ", ".join(
        f"{corpus.label_names[j]!r} (pool {counts['train'][j]} = {pool_share(counts['train'][j], n_pool)}, "
        f"dev {counts['dev'][j]}, test {counts['test'][j]})"
        for j in columns
    )


#: The most texts a label close to a kept one's name may carry, as a share of the kept one's, to be warned of as its
#: misspelling (:func:`lookalike_labels`).
MISSPELT_SHARE = 0.25


def lookalike_labels(
    corpus: Corpus, kept: Sequence[str], cutoff: float = LOOKALIKE_CUTOFF
) -> list[tuple[str, int, str]]:
    """Labels of ``corpus`` left out of ``kept`` that look like a kept one: a misspelt label value, most often.

    A label looks like a kept one if its name is the same in another case,
    or close to it (:func:`difflib.get_close_matches` at ``cutoff``, case aside)
    and carried by at most :data:`MISSPELT_SHARE` of the kept one's texts (a
    misspelling is rare beside what it misspells: ``flood`` on 309 texts is
    no typo of ``food`` on 402), unless the two differ in their digits alone
    (``tag16`` and ``tag156``, ICD codes: a numbered family, not a typo).

    Returns
    -------
    list of (name, n_texts, kept_label) : each such label, its texts (all
    splits) and the kept label it looks most like; most texts first, then by name.
    """
    import difflib

    folded: dict[str, str] = {}
    for name in kept:
        folded.setdefault(name.casefold(), name)
    counts = corpus.label_counts()
    count_of = dict(zip(corpus.label_names, counts.tolist()))
    found = []
    for j, name in enumerate(corpus.label_names):
        if name in kept:
            continue
        close = difflib.get_close_matches(name.casefold(), list(folded), n=1, cutoff=cutoff)
        if close and (name.casefold() == close[0] or (_without_digits(name) != _without_digits(close[0])
                                                      and counts[j] <= MISSPELT_SHARE * count_of[folded[close[0]]])):
            found.append((name, int(counts[j]), folded[close[0]]))
    return sorted(found, key=lambda f: (-f[1], f[0]))


def _without_digits(name: str) -> str:
    return "".join(c for c in name.casefold() if not c.isdigit())


def warn_lookalikes(corpus: Corpus, kept: Sequence[str], named: bool) -> None:
    """One-line warning naming each label left out that looks like a kept one (:func:`lookalike_labels`).

    Not an error: a subset of the labels is what label reduction keeps, and
    a label of its own may be named like another. ``named``: ``kept`` is what
    ``--labels`` names (else the ``--frequent/--rare`` pick). For a user's own
    file (:func:`al.datasets.load_corpus`): a built-in data set's labels are
    its own (Reuters has both heat and wheat) and no file of the user's to correct.
    """
    found = lookalike_labels(corpus, kept)
    if not found:
        return
    import warnings

    shown = ", ".join(f"{name!r} ({n} text(s), like {like!r})" for name, n, like in found[:SHOWN_LABELS])
    more = and_more(len(found), SHOWN_LABELS)
    how = "--labels keeps {} and leaves" if named else "--frequent/--rare keep {} and leave"
    keep = "add it to --labels" if named else "name the labels to keep with --labels"
    warnings.warn(
        f"corpus {corpus.name!r}: {how.format(', '.join(map(repr, kept)))} out label(s) that look like one "
        f"of them: {shown}{more}; a text does not count for the kept label such a value resembles (and one with no "
        f"kept label is dropped): if it is a misspelling, correct it in the data file; if it is a label of its "
        f"own, {keep} or leave it out knowingly",
        UserWarning, stacklevel=2,
    )


def _label_columns(corpus: Corpus, labels: Sequence[str]) -> list[int]:
    """Column of each name in ``labels``; DataError for an unknown or repeated name."""
    index = {name: j for j, name in enumerate(corpus.label_names)}
    missing = [name for name in labels if name not in index]
    empty = [name for name in missing if name in set(corpus.left_out_labels or ())]
    if empty:  # a column the data holds, on no text (Disaster Response's PII, child_alone): left out as read
        raise LabelPickError(
            f"label(s) {', '.join(map(repr, empty))} of corpus {corpus.name!r} carry no text (a column of only "
            f"zeros, left out as the data was read); name labels that texts carry: {', '.join(corpus.label_names)}")
    unread = [name for name in missing if name in set(corpus.unread_columns or ())]
    if unread:  # a 0/1 column with a stray cell, warned of and not read: the cell is the mistake
        raise LabelPickError(
            f"label(s) {', '.join(map(repr, unread))} of corpus {corpus.name!r}: the file's column(s) of that name "
            f"hold values other than 0 and 1 (the warning above says which), so were not read as labels; write "
            f"the cells as 0 or 1, or name the label columns with --label-columns to be told of every bad cell")
    if missing:
        joined = next((name for name in missing if "," in name), None)  # --labels fire,hospitals
        spaced = next((name for name in missing if len(name.split()) > 1 and all(p in index for p in name.split())),
                      None)  # a settings file's labels: food water, one string
        apart = (f"; labels are given apart, not joined by commas: --labels {' '.join(joined.split(','))}"
                 if joined else f"; {spaced!r} names {len(spaced.split())} labels in one string: list them one "
                                f"by one ({', '.join(spaced.split())}), not as one name" if spaced else "")
        parts = [part.strip() for name in missing for part in (name.split(",") if "," in name else [name])]
        raise LabelPickError(
            f"label(s) {', '.join(map(repr, missing))} not in corpus {corpus.name!r}"
            f"{did_you_mean([p for p in parts if p not in index], corpus.label_names)}{apart}; known labels: "
            f"{', '.join(corpus.label_names)}"
        )
    if len(set(labels)) != len(labels):
        raise DataError(f"--labels lists a label twice: {list(labels)}; name each label once")
    return [index[name] for name in labels]


def check_eligible(
    corpus: Corpus, labels: Sequence[str], min_pool: int = MIN_POOL_TEXTS, min_eval: int = MIN_EVAL_TEXTS,
    user_file: bool = False,
) -> None:
    """Refuse an explicit label pick that the automatic pick would not make.

    Every label in ``labels`` must be eligible (:func:`eligible_labels`): at
    least ``min_pool`` texts in the pool (``train``), at least ``min_eval``
    in each of ``dev`` (threshold tuning, early stopping) and ``test`` (its
    F1), and on at most ``MAX_POOL_SHARE`` of the pool; a label named alone
    may be on more of the pool where enough texts lack it (:func:`binary_eligible`). A label missing from
    dev or test would enter macro-F1 as a meaningless 0; a label on most of
    the pool is close to a constant. Counts are taken on ``corpus`` before
    reduction, as the automatic pick does.

    Raises
    ------
    DataError
        One line naming each offending label with its pool / dev / test
        counts, what is required, and eligible labels to pick instead (``user_file``: or a split column that
        puts more texts of the labels short of dev or test texts there).
    """
    columns = _label_columns(corpus, labels)
    eligible = set(eligible_labels(corpus, min_pool, min_eval).tolist())  # what the automatic pick may take
    alone = len(columns) == 1  # a binary task keeps every text: on most of them, no constant if enough lack it
    alone_eligible = binary_eligible(corpus, min_pool, min_eval) if alone else np.empty(0, dtype=np.int64)
    bad = [j for j in columns if j not in eligible and j not in alone_eligible]
    if not bad:
        return
    n_pool = len(corpus.splits["train"])
    counts = corpus.label_counts("train")
    described = _described(corpus, bad)
    others = sorted(eligible - set(columns), key=lambda j: (-counts[j], corpus.label_names[j]))
    if others:
        shown = ", ".join(f"{corpus.label_names[j]} ({counts[j]})" for j in others[:SHOWN_LABELS])
        more = and_more(len(others), SHOWN_LABELS)
        instead = f"eligible labels not picked: {shown}{more}"
    else:
        instead = "no other label of this corpus is eligible"
    cannot = "be learned and measured" if min_eval else "be analysed"
    automatic = " or use --frequent/--rare" if eligible else ""  # none eligible: the automatic pick fails too
    short_of_eval = [j for j in bad if min_eval and min_pool <= counts[j] <= MAX_POOL_SHARE * n_pool]
    split = (f"; or put more texts of {', '.join(repr(corpus.label_names[j]) for j in short_of_eval[:3])} in dev "
             f"and test with a split column of the file's (train/dev/test; --split-column)"
             if short_of_eval and user_file else "")
    advice = _empty_split_advice(corpus, min_eval, user_file) or f"pick other labels ({instead}){automatic}{split}"
    rule = (f"a label named alone needs >= {min_pool} pool texts with it and as many without it"
            + (f", and >= {min_eval} of each in dev and in test" if min_eval else "")) if alone else \
        f"every kept label needs {_rule(n_pool, min_pool, min_eval)}"
    raise LabelPickError(
        f"--labels: {len(bad)} label(s) of corpus {corpus.name!r} cannot {cannot}: {described}; {rule}; {advice}"
    )


def _empty_split_advice(corpus: Corpus, min_eval: int, user_file: bool) -> str:
    """What to do where the corpus has no dev or no test text at all (a download's train/test split column): no
    label can be eligible, whatever is picked; "" where each split holds texts."""
    empty = [split for split in ("dev", "test") if min_eval and not len(corpus.splits[split])]
    if not empty:
        return ""
    missing = " and no ".join(empty)
    if not user_file:
        return f"the corpus has no {missing} text, so no label can be measured"
    tenth = "about a tenth each" if len(empty) > 1 else "about a tenth"
    return (f"the corpus has no {missing} text, so no label can be measured: the file's split column marks none; mark "
            f"some train rows {' and '.join(empty)} ({tenth}), or rename the split column so that it is not read "
            f"(each text then goes to train, dev or test by a hash of it)")


def select_labels(corpus: Corpus, labels: Sequence[str], drop_unlabeled: bool = True,
                  splits_needed: Sequence[str] = SPLITS) -> Corpus:
    """Keep only ``labels`` (in that order) and, by default, texts carrying at least one.

    With two labels or more, a text with none of them is dropped (as in the
    paper: the task is to tell the kept labels apart). With one label every
    text stays whatever ``drop_unlabeled`` says: the texts without it are the
    negatives of its binary task (dropped, every text left would be positive).
    No eligibility check (see :func:`check_eligible`, which :func:`reduce_labels`
    applies to explicit picks).

    Raises
    ------
    DataError
        If a requested label is not in the corpus, or a split of ``splits_needed``
        is left with no text carrying one (with ``drop_unlabeled``) or with no
        text at all.
    """
    columns = _label_columns(corpus, labels)
    Y = corpus.Y[:, columns].tocsr()
    labeled = np.asarray(Y.sum(axis=1)).ravel() > 0
    keep = labeled if drop_unlabeled and len(columns) > 1 else np.ones(Y.shape[0], bool)
    new_index = np.full(len(keep), -1, dtype=np.int64)
    new_index[keep] = np.arange(keep.sum())
    splits = {s: new_index[idx[keep[idx]]] for s, idx in corpus.splits.items()}
    for split in splits_needed:
        if len(splits[split]) == 0 or (drop_unlabeled and not labeled[corpus.splits[split]].any()):
            raise DataError(f"no {split} text of corpus {corpus.name!r} carries any of the labels {list(labels)}")
    left_out = [*corpus.left_out_labels, *(name for name in corpus.label_names if name not in labels)]
    return make_corpus(corpus.name, corpus.texts[keep], Y[keep], list(labels), splits, left_out)


def reduce_labels(
    corpus: Corpus,
    labels: Sequence[str] | None = None,
    n_frequent: int = 5,
    n_rare: int = 5,
    user_file: bool = False,
    analysis: bool = False,
) -> Corpus:
    """The corpus reduced to ``labels``, or to :func:`pick_frequent_rare` labels if None (``user_file``: see there).

    An explicit pick must pass the same eligibility rule as the automatic one
    (:func:`check_eligible`), so every kept label can be learned and measured.
    ``analysis``: for ``python -m al.analyze``, which reads the pool alone. A
    label named there needs only :data:`MIN_ANALYSIS_POOL_TEXTS` pool texts and
    no dev or test text; the automatic pick stays the simulation's (the labels
    a run would keep), but without dev or test texts in the corpus (a file
    whose ``split`` column puts every text in train) it counts the pool alone.

    Raises
    ------
    DataError
        An unknown, repeated or ineligible label; too few eligible labels.
    """
    pool_only = analysis and (labels or any(len(corpus.splits[s]) == 0 for s in ("dev", "test")))
    min_pool = MIN_ANALYSIS_POOL_TEXTS if analysis and labels else MIN_POOL_TEXTS
    min_eval = 0 if pool_only else MIN_EVAL_TEXTS
    if labels:
        chosen = list(labels)
        check_eligible(corpus, chosen, min_pool, min_eval, user_file=user_file)
    else:
        chosen = pick_frequent_rare(corpus, n_frequent, n_rare, min_pool, min_eval, user_file=user_file,
                                    analysis=analysis)
    return select_labels(corpus, chosen, splits_needed=("train",) if analysis else SPLITS)


def subsample_pool(corpus: Corpus, size: int, seed: int = 0) -> Corpus:
    """The corpus with its pool (``train`` split) cut to ``size`` random texts."""
    pool = corpus.splits["train"]
    if size >= len(pool):
        return corpus
    keep_pool = np.sort(np.random.default_rng(seed).choice(pool, size, replace=False))
    keep = np.sort(np.concatenate([keep_pool, corpus.splits["dev"], corpus.splits["test"]]))
    new_index = np.full(len(corpus.texts), -1, dtype=np.int64)
    new_index[keep] = np.arange(len(keep))
    splits = {"train": new_index[keep_pool], "dev": new_index[corpus.splits["dev"]], "test": new_index[corpus.splits["test"]]}
    return make_corpus(corpus.name, corpus.texts[keep], corpus.Y[keep], corpus.label_names, splits,
                       corpus.left_out_labels)


def labels_without_pool_texts(corpus: Corpus) -> list[str]:
    """The kept labels without a text in the pool: none but after a ``--pool-size`` cut (labels are picked on
    the whole pool)."""
    return [name for name, count in zip(corpus.label_names, corpus.label_counts("train")) if count == 0]


def reduction_summary(full: Corpus, reduced: Corpus, picked: tuple[int, int] | None | bool = False) -> str:
    """What the label reduction left out of ``full`` to make ``reduced`` (before any pool subsample), one line.

    ``left out: 225 of 1,200 texts, which carry none of the 7 kept labels (180 carry no label at all); 3 of 10
    labels (x, y, z)``: the labels left out by their texts, most first, the first :data:`SHOWN_LABELS` named
    (quoted when a name holds a comma); ``; every label kept`` when every label is kept, and
    ``left out: nothing (every text and label kept)`` when nothing is. Label columns no text of the file
    carries (``full.left_out_labels``, which loading left out) are counted too, ``on no text: tools``.

    ``picked`` says why each other label was left out: ``(n_frequent, n_rare)`` for the automatic pick
    (``eligible, not among the 5 most and 5 least frequent: ...; under the rule of >= 20 pool texts ...: ...``),
    None for labels named (``not named with --labels: ...``); False names them without a reason.
    """
    columns = [full.label_names.index(name) for name in reduced.label_names]
    counts = np.asarray(full.Y.sum(axis=1)).ravel()
    kept = np.asarray(full.Y[:, columns].sum(axis=1)).ravel() > 0 if len(columns) > 1 else np.ones(len(counts), bool)
    none, bare = int((~kept).sum()), int((counts == 0).sum())
    def carry(n: int) -> str:
        return "carries" if n == 1 else "carry"

    texts = (f"{none:,} of {len(full.texts):,} texts, which {carry(none)} none of the {len(columns)} kept labels"
             f"{f' ({bare:,} {carry(bare)} no label at all)' if bare else ''}" if none else "no text")
    totals = full.label_counts()
    dropped = sorted(set(range(full.n_labels)) - set(columns), key=lambda j: (-totals[j], full.label_names[j]))
    never = [name for name in full.left_out_labels if name not in reduced.label_names]
    if not dropped and not never:
        return "left out: nothing (every text and label kept)" if not none else \
            f"left out: {texts}; every label kept"
    groups: list[tuple[str, list[str]]] = []
    if picked is False:
        groups.append(("", [full.label_names[j] for j in dropped]))
    elif picked is None:
        groups.append(("not named with --labels", [full.label_names[j] for j in dropped]))
    else:
        eligible = set(eligible_labels(full).tolist())
        passed = [full.label_names[j] for j in dropped if j in eligible]
        under = [full.label_names[j] for j in dropped if j not in eligible]
        n_frequent, n_rare = picked
        groups.append((f"eligible, not among the {n_frequent} most and {n_rare} least frequent", passed))
        groups.append((f"under the rule of {_rule(len(full.splits['train']), MIN_POOL_TEXTS, MIN_EVAL_TEXTS)}",
                       under))
    groups.append(("on no text", never))

    def named(names: list[str]) -> str:
        shown = names[:SHOWN_LABELS]
        shown = [repr(name) for name in shown] if any("," in name for name in shown) else shown  # "a, b": one label?
        return f"{', '.join(shown)}{and_more(len(names), SHOWN_LABELS)}"

    said = "; ".join(f"{reason}: {named(names)}" if reason else named(names) for reason, names in groups if names)
    n_left, n_all = len(dropped) + len(never), full.n_labels + len(never)
    return f"left out: {texts}; {n_left} of {n_all} labels ({said})"
