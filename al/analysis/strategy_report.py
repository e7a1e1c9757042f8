"""The strategy comparison report: which strategy, by how much, how sure.

Reads run directories (as ``al.simulate`` and ``al.grid`` write them) and writes,
per setting (data set + classifier): macro- and micro-F1 curves (mean ± std
over seeds); the normalised area under the macro-F1 curve per strategy and
seed; final and area values with a paired Wilcoxon signed-rank test of each
strategy against a baseline over shared seeds; per-label F1 at the end,
frequent vs rare labels; compute per round (train / query / evaluate
seconds). All of it as ``report.md`` and ``report.html`` (with the PNGs) and
``summary.json``. Incomplete runs (fewer rounds than
:func:`al.records.n_rounds` of their stored config) are listed, not averaged in.

``python -m al.report`` is the command line over :func:`build_report`; the
statistics are in :mod:`al.analysis.comparison`.
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from al.analysis.comparison import compare_to_baseline, setting_of, summarize
from al.analysis.curves import SPREAD, curves, find_run_dirs, format_mean_std, load_runs, plot_curves
from al.io import write_atomic
from al.records import CONFIG_FILE, read_rounds


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:80]


def build_report(runs_dir: Path, out: Path, baseline: str = "random") -> dict[str, Any]:
    """Read every run below ``runs_dir`` and write the comparison report into ``out``.

    Parameters
    ----------
    runs_dir : Path
        A directory holding run directories (e.g. a grid's ``out``).
    out : Path
        The report directory; created if needed.
    baseline : str
        The strategy every other one is tested against.

    Returns
    -------
    dict
        The content of ``summary.json``: ``settings`` (per setting: strategy rows,
        per-label F1, compute), ``partial`` and ``empty`` runs.

    Raises
    ------
    DataError
        If ``runs_dir`` holds no finished round, or a stored config is unusable.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    dirs = sorted({p.parent for p in runs_dir.rglob(CONFIG_FILE)} | {p.parent for p in runs_dir.rglob(".lock")})
    empty = [d for d in dirs if not read_rounds(d)]
    runs = load_runs(find_run_dirs([runs_dir]))
    table, partial = summarize(runs)
    sections: list[dict[str, Any]] = []
    summary: dict[str, Any] = {"spread": SPREAD, "settings": {}, "partial": [],
                               "empty": [str(d.relative_to(runs_dir)) for d in empty]}
    for run, done, expected in partial:
        summary["partial"].append({"run": str(run.path.relative_to(runs_dir)), "rounds": done, "expected": expected})

    for setting, strategies in sorted(table.items()):
        slug = _slug(setting)
        setting_runs = [r for r in runs if setting_of(r) == setting and r.strategy in strategies
                        and r.seed in strategies[r.strategy].final_macro]
        figures = {}
        for metric in ("macro_f1", "micro_f1"):
            path = plot_curves(curves(setting_runs, metric), out / f"{slug}-{metric}.png", metric,
                               title=f"{metric.replace('_f1', '-F1')}: {setting}")
            figures[metric] = path.name
        tests_final = compare_to_baseline(strategies, "final_macro", baseline)
        tests_area = compare_to_baseline(strategies, "area_macro", baseline)
        rows = []
        for name in sorted(strategies, key=lambda n: (n != baseline, n)):
            s = strategies[name]
            rows.append({
                "strategy": name, "seeds": sorted(s.final_macro),
                "final_macro_f1": format_mean_std(list(s.final_macro.values())),
                "final_micro_f1": format_mean_std(list(s.final_micro.values())),
                "area_macro_f1": format_mean_std(list(s.area_macro.values())),
                "vs_baseline_final": tests_final[name].text if name in tests_final else "baseline" if name == baseline else "no baseline",
                "vs_baseline_area": tests_area[name].text if name in tests_area else "baseline" if name == baseline else "no baseline",
                "area_by_seed": {str(k): round(v, 4) for k, v in sorted(s.area_macro.items())},
            })
        groups = next((r.meta.get("corpus", {}).get("label_groups") for r in setting_runs), None)
        label_rows = []
        for name in sorted(strategies):
            per_seed = strategies[name].per_label.values()
            labels = list(next(iter(per_seed)).keys())
            mean = {label: float(np.mean([p[label] for p in per_seed])) for label in labels}
            row = {"strategy": name, **{label: round(v, 3) for label, v in mean.items()}}
            if groups:
                row["frequent_mean"] = round(float(np.mean([mean[l] for l in groups["frequent"]])), 3)
                row["rare_mean"] = round(float(np.mean([mean[l] for l in groups["rare"]])), 3)
            label_rows.append(row)
        compute_rows = []
        for name in sorted(strategies):
            sec = strategies[name].seconds
            compute_rows.append({"strategy": name, **{k.replace("seconds_", ""): round(float(np.mean(v)), 3)
                                                      for k, v in sec.items()}})
        fig, ax = plt.subplots(figsize=(7, 3.5), dpi=120)
        bottom = np.zeros(len(compute_rows))
        for part in ("train", "query", "evaluate"):
            values = np.array([row[part] for row in compute_rows])
            ax.bar([row["strategy"] for row in compute_rows], values, bottom=bottom, label=part)
            bottom += values
        ax.set_ylabel("seconds per round (mean)")
        ax.set_title(f"compute per round: {setting}")
        ax.legend()
        ax.tick_params(axis="x", rotation=20)
        fig.tight_layout()
        fig.savefig(out / f"{slug}-compute.png")
        plt.close(fig)
        figures["compute"] = f"{slug}-compute.png"
        sections.append({"setting": setting, "figures": figures, "rows": rows, "labels": label_rows,
                         "groups": groups, "compute": compute_rows})
        summary["settings"][setting] = {"strategies": rows, "per_label_f1": label_rows, "compute": compute_rows}

    write_atomic(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    write_atomic(out / "report.md", _markdown(sections, summary, baseline))
    write_atomic(out / "report.html", _html(sections, summary, baseline))
    return summary


def _table_md(rows: list[dict[str, Any]], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


MAIN_COLUMNS = ["strategy", "seeds", "final_macro_f1", "area_macro_f1", "final_micro_f1", "vs_baseline_final",
                "vs_baseline_area"]


def problems(summary: dict[str, Any]) -> list[str]:
    """One line per partial or empty run in ``summary``: what it is and that it is left out."""
    out = [f"partial: {p['run']} ({p['rounds']} of {p['expected']} rounds) — left out of the tables"
           for p in summary["partial"]]
    out += [f"missing: {e} (no finished round) — left out" for e in summary["empty"]]
    return out


def _markdown(sections: list[dict[str, Any]], summary: dict[str, Any], baseline: str) -> str:
    parts = ["# Active-learning comparison", "",
             f"Values are mean ± sample standard deviation over seeds (ddof = 1); with a single seed the "
             f"mean is shown alone (the spread is undefined). *area* is the area under the macro-F1 curve "
             f"divided by the labeled-size range (the curve's mean height). *vs {baseline}*: mean paired "
             f"difference, Wilcoxon signed-rank statistic and exact two-sided p over shared seeds, and seeds "
             f"won (with 3 seeds the smallest possible p is 0.25).", ""]
    incomplete = problems(summary)
    if incomplete:
        parts += ["## Incomplete runs", "", *[f"- {p}" for p in incomplete], ""]
    for sec in sections:
        parts += [f"## {sec['setting']}", "", f"![macro-F1]({sec['figures']['macro_f1']})",
                  f"![micro-F1]({sec['figures']['micro_f1']})", "", _table_md(sec["rows"], MAIN_COLUMNS), ""]
        label_columns = list(sec["labels"][0].keys()) if sec["labels"] else []
        parts += ["### Per-label F1 at the end (mean over seeds)", ""]
        if sec["groups"]:
            parts += [f"Frequent: {', '.join(sec['groups']['frequent'])}; rare: {', '.join(sec['groups']['rare'])}.", ""]
        parts += [_table_md(sec["labels"], label_columns), ""]
        parts += ["### Compute (mean seconds per round)", "", f"![compute]({sec['figures']['compute']})", "",
                  _table_md(sec["compute"], ["strategy", "train", "query", "evaluate"]), ""]
    return "\n".join(parts)


def _table_html(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>" for c in columns) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html(sections: list[dict[str, Any]], summary: dict[str, Any], baseline: str) -> str:
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Active-learning comparison</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse;"
             "margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}img{max-width:48%}</style>",
             "</head><body><h1>Active-learning comparison</h1>",
             f"<p>Mean ± sample std over seeds (ddof = 1; one seed: the mean alone); area = normalised area "
             f"under the macro-F1 curve; vs {baseline}: mean paired difference, Wilcoxon signed-rank over shared "
             f"seeds (3 seeds: smallest possible p = 0.25).</p>"]
    incomplete = problems(summary)
    if incomplete:
        parts.append("<h2>Incomplete runs</h2><ul>" + "".join(f"<li>{html.escape(p)}</li>" for p in incomplete) + "</ul>")
    for sec in sections:
        parts.append(f"<h2>{html.escape(sec['setting'])}</h2>")
        parts.append("".join(f"<img src='{html.escape(sec['figures'][k])}' alt='{k}'>" for k in ("macro_f1", "micro_f1")))
        parts.append(_table_html(sec["rows"], MAIN_COLUMNS))
        parts.append("<h3>Per-label F1 at the end</h3>")
        if sec["labels"]:
            parts.append(_table_html(sec["labels"], list(sec["labels"][0].keys())))
        parts.append(f"<h3>Compute per round</h3><img src='{html.escape(sec['figures']['compute'])}' alt='compute'>")
        parts.append(_table_html(sec["compute"], ["strategy", "train", "query", "evaluate"]))
    parts.append("</body></html>")
    return "\n".join(parts)
