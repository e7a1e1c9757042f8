"""``python -m al.testing STRATEGY...``: run the conformance checks on strategies by name.

A name is what ``--strategy`` takes: a built-in or plugin name (``cvirs``,
``smalltext:BreakingTies``) or ``module:Class`` importable from the current
directory. One line per strategy: ``ok: NAME (...)`` or ``error: NAME ...``;
exit status 0 when every one passes, 2 otherwise.
"""
from __future__ import annotations

import sys
from typing import Sequence

from al.cli import ArgumentParser
from al.errors import ALError

#: What :func:`al.testing.check_strategy` verified when it returns, for the ``ok`` line.
CHECKED = ("valid distinct unlabeled picks", "state and views unchanged", "only declared views read",
           "JSON-ready last_info", "same picks with the same seed", "n equal to the whole pool")


def main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(
        prog="python -m al.testing",
        description="Check strategies against the interface's rules on small synthetic pools (no model, seconds).",
        epilog="exit status: 0 when every strategy passes, 2 when any fails or cannot be built",
    )
    parser.add_argument("strategies", nargs="+", metavar="STRATEGY",
                        help="a name --strategy takes: cvirs, smalltext:BreakingTies, mystrategies:LeastConfident")
    parser.add_argument("--strategy-param", action="append", default=[], metavar="KEY=VALUE",
                        help="a constructor parameter for every strategy named (repeatable)")
    args = parser.parse_args(argv)
    from al.config import SimulationConfig
    from al.simulate import parse_params
    from al.testing import ConformanceError, check_strategy

    failed = 0
    for name in args.strategies:
        try:
            params = parse_params(args.strategy_param, "--strategy-param")
            config = SimulationConfig(strategy={"name": name, "params": params})
            config.make_strategy()  # an unknown name or parameter is one line here, before any check
        except ALError as exc:
            failed += 1
            print(f"error: {exc}", file=sys.stderr)
            continue
        try:
            check_strategy(config.make_strategy)
        except ConformanceError as exc:
            failed += 1
            print(f"error: {exc}", file=sys.stderr)
            continue
        except ALError as exc:  # refused the synthetic pool itself, e.g. one that needs another classifier
            failed += 1
            print(f"error: {config.strategy.label()} could not be checked: {exc} (these checks fit a logistic "
                  f"regression on synthetic vectors; for another classifier call "
                  f"al.testing.check_strategy(cls, classifier=...) in Python)", file=sys.stderr)
            continue
        print(f"ok: {config.strategy.label()} ({', '.join(CHECKED)})")
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
