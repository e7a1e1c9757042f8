"""``python -m al.testing STRATEGY...``: run the conformance checks on strategies by name.

A name is what ``--strategy`` takes: a built-in or plugin name (``cvirs``,
``smalltext:BreakingTies``) or ``module:Class`` importable from the current
directory. One line per strategy: ``ok: NAME (...)`` or ``error: NAME ...``;
exit status 0 when every one passes, 2 otherwise. What a strategy caches for
the synthetic pools (ALPS's masked-LM head) goes to a temporary cache,
removed after its checks.
"""
from __future__ import annotations

import os
import re
import sys
import warnings
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Sequence

from al.cli import ArgumentParser
from al.errors import ALError, ClassifierNeededError, ConfigError, raised_at
from al.strategy import write_advice
from al.progress import heartbeat

#: What :func:`al.testing.check_strategy` verified when it returns, for the ``ok`` line.
CHECKED = ("valid distinct unlabeled picks", "state, views and classifier unchanged", "only declared views read",
           "JSON-ready last_info", "same picks with the same seed", "same picks after other queries",
           "n equal to the whole pool", "a later round with a label not yet labeled")


def main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(
        prog="python -m al.testing",
        description="Check strategies against the interface's rules on small synthetic pools (seconds and no model "
        "for most; alps loads MiniLM and fits its head, about 1.5 minutes).",
        epilog="exit status: 0 when every strategy passes, 2 when any fails or cannot be built",
    )
    parser.add_argument("strategies", nargs="+", metavar="STRATEGY",
                        help="a name --strategy takes: cvirs, smalltext:BreakingTies, mystrategies:LeastConfident")
    parser.add_argument("--strategy-param", action="append", default=[], metavar="KEY=VALUE",
                        help="a constructor parameter for every strategy named (repeatable)")
    args = parser.parse_args(argv)
    from al.config import SimulationConfig, console_spelling
    from al.simulate import parse_params
    from al.testing import ConformanceError, check_strategy, checks_classifier, hash_seed_answers, hash_seed_failure

    failed = 0
    cache = os.environ.get("AL_CACHE_DIR")
    advice = (" (these checks fit a logistic regression on synthetic vectors, or al.testing.DropoutLogreg for a "
              "strategy that calls predict_proba_dropout; for another classifier call "
              "al.testing.check_strategy(cls, classifier=...) in Python)")
    for name in args.strategies:
        stand_in = ""
        try:
            params = parse_params(args.strategy_param, "--strategy-param")
            config = SimulationConfig(strategy={"name": name, "params": params})
            # an unknown name or parameter, or one the run sets (seed), is one line here, before any check
            config.validate()
        except ClassifierNeededError as exc:  # it calls what the checks' logistic regression has not
            if checks_classifier(config.make_strategy()) is None:  # nor the dropout stand-in
                failed += 1
                nowhere = f"; {exc.nowhere}" if exc.nowhere else ""  # not --classifier: a flag of al.simulate's
                print(f"error: {config.strategy.label(console_spelling)} could not be checked: {exc.needs}"
                      f"{nowhere}{advice}", file=sys.stderr)
                continue
            stand_in = "; fitted al.testing.DropoutLogreg, noisy logits standing in for MC dropout"
        except ALError as exc:
            failed += 1
            shared = (" (--strategy-param reaches every strategy named: check them in separate commands)"
                      if args.strategy_param and len(args.strategies) > 1 and " has no parameter " in str(exc) else "")
            print(f"error: {exc}{shared}", file=sys.stderr)
            continue
        label = config.strategy.label(console_spelling)
        cached = ""
        try:
            with TemporaryDirectory(prefix="al-testing-") as scratch:
                os.environ["AL_CACHE_DIR"] = scratch  # what a strategy caches for the synthetic pools goes with them
                try:
                    with warnings.catch_warnings(record=True) as caught, \
                            heartbeat(f"checking {label} on synthetic pools"):  # a slow query said nothing
                        check_strategy(config.make_strategy, name=label)
                finally:
                    show_alike_once(caught)
                answers = None  # a user's strategy in processes of other hash seeds (built-ins: pinned by tests)
                if type(config.make_strategy()).__module__.split(".")[0] != "strategies":
                    with heartbeat(f"checking {label} in processes of other hash seeds"):
                        answers = hash_seed_answers(name, params)  # their caches in this one's temporary cache
                if any(Path(scratch).iterdir()):
                    cached = "; what it cached for the synthetic pools went to a temporary cache, now removed"
        except ConformanceError as exc:
            failed += 1
            print(f"error: {exc}", file=sys.stderr)
            continue
        except ALError as exc:  # refused the synthetic pool (one that needs another classifier), a model missing
            failed += 1
            print(f"error: {label} could not be checked: {exc}{advice if isinstance(exc, ConfigError) else ''}",
                  file=sys.stderr)
            continue
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        except (Exception, SystemExit) as exc:  # noqa: BLE001 -- the strategy's own failure (sys.exit too): its
            # line, and the next strategy
            failed += 1
            said = " ".join(str(exc).split())
            print(f"error: {label} raised {type(exc).__name__} on a synthetic pool{': ' + said if said else ''}"
                  f"{raised_at(exc)} (run al.testing.check_strategy on it in Python for the traceback)"
                  f"{write_advice(exc)}",
                  file=sys.stderr)
            continue
        finally:
            _restore("AL_CACHE_DIR", cache)
        if (said := hash_seed_failure(label, answers)) is not None:
            failed += 1
            print(f"error: {label} {said}", file=sys.stderr)
            continue
        seeded = ", the same picks in another process" if answers is not None else ""
        print(f"ok: {label} ({', '.join(CHECKED)}{seeded}){stand_in}{cached}")
    return 2 if failed else 0


def show_alike_once(caught: Sequence[warnings.WarningMessage]) -> None:
    """Show the warnings a check raised, those alike but for their numbers once: a warning of each synthetic pool
    (an MLM head fitted for it, its loss) is one line, which says how many others like it came."""
    alike: dict[tuple[type, str], list[warnings.WarningMessage]] = {}
    for caught_one in caught:
        key = (caught_one.category, re.sub(r"\d+(?:\.\d+)?", "#", " ".join(str(caught_one.message).split())))
        alike.setdefault(key, []).append(caught_one)
    for (category, _), each in alike.items():
        first = each[0]
        more = len({" ".join(str(w.message).split()) for w in each}) - 1  # the same text again is no other
        text = str(first.message) + (f" (and {more} more like it with other numbers, on the synthetic pools)"
                                     if more else "")
        warnings.showwarning(text, category, first.filename, first.lineno)


def _restore(variable: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(variable, None)
    else:
        os.environ[variable] = value


if __name__ == "__main__":
    from al.cli import exit_with

    exit_with(main)
