"""Human-readable results: a rich table on the terminal, a markdown report with matplotlib plots.

The report reads only the results JSON, so any saved `results.json` can be re-rendered.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any


def _fmt(v: Any) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def _p(v: float) -> str:
    """A p-value: three decimals, or scientific notation below 0.001 (where three decimals say 0)."""
    return f"{v:.3f}" if v >= 0.001 else f"{v:.1e}"


def _headline_k(results: dict[str, Any]) -> int:
    ks = results["ks"]
    return 10 if 10 in ks else max(ks)


def merged_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and one row per system with a `merged` block (the agentmem family): turns folded into
    another turn's memory, gold turns among them, and recall at the headline k raw -> merged."""
    k = _headline_k(results)
    header = ["system", "turns merged", "gold turns merged", "items with merged gold",
              f"any@{k} raw", f"any@{k} merged", f"all@{k} raw", f"all@{k} merged"]
    rows = []
    for name, s in results["systems"].items():
        m = s.get("merged")
        if m is None:
            continue
        rows.append([name, str(m["turns_merged"]), f"{m['gold_merged']} of {m['gold_turns']}",
                     str(m["items_with_merged_gold"]),
                     _fmt(s[f"recall_any@{k}"]), _fmt(m.get(f"recall_any@{k}", "-")),
                     _fmt(s[f"recall_all@{k}"]), _fmt(m.get(f"recall_all@{k}", "-"))])
    return header, rows


def paired_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and one row per compared pair: items A alone / B alone gets right, and the sign test."""
    k = _headline_k(results)
    header = ["A vs B", f"any@{k}: A only", "B only", "p", f"all@{k}: A only", "B only", "p"]
    rows = []
    for pair in results.get("paired", []):
        cells = [f"{pair['a']} vs {pair['b']}"]
        for metric in (f"recall_any@{pair['k']}", f"recall_all@{pair['k']}"):
            c = pair[metric]
            cells += [str(c["a_only"]), str(c["b_only"]), _p(c["p_value"])]
        rows.append(cells)
    return header, rows


def table_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and one row per system: turn-level recall@k, session recall_any@10, MRR, NDCG, latency."""
    ks = results["ks"]
    header = ["system", *[f"any@{k}" for k in ks], *[f"all@{k}" for k in ks], "sess any@10", "sess all@10",
              "MRR", "NDCG@10", "ingest ms/turn p50", "recall ms p50", "recall ms p95", "bytes/turn"]
    rows = []
    for name, s in results["systems"].items():
        lat = s["latency_ms"]
        rows.append([name, *[_fmt(s[f"recall_any@{k}"]) for k in ks], *[_fmt(s[f"recall_all@{k}"]) for k in ks],
                     _fmt(s["session"].get("recall_any@10", "-")), _fmt(s["session"].get("recall_all@10", "-")),
                     _fmt(s.get("mrr", "-")), _fmt(s.get("ndcg@10", "-")), f"{lat['ingest_per_turn_p50']:.3f}",
                     f"{lat['recall_p50']:.2f}", f"{lat['recall_p95']:.2f}", f"{s['memory_bytes']['per_turn']:.0f}"])
    return header, rows


TERMINAL_COLUMNS = ("system", "any@1", "any@5", "any@10", "any@20", "all@10", "sess any@10", "MRR", "NDCG@10",
                    "recall ms p50", "bytes/turn")


def print_table(results: dict[str, Any]) -> None:
    """The headline columns on the terminal (the markdown report has them all)."""
    from rich.console import Console
    from rich.table import Table

    header, rows = table_rows(results)
    keep = [i for i, h in enumerate(header) if h in TERMINAL_COLUMNS]
    repaired = results.get("repaired") or "none"
    table = Table(title=f"{results['dataset']}: {results['n_items']} items, turn-level recall "
                        f"(skipped: {results['skipped'] or 'none'}; repaired: {repaired})")
    for i in keep:
        table.add_column(header[i], justify="left" if i == 0 else "right", no_wrap=True)
    for row in rows:
        table.add_row(*[row[i] for i in keep])
    console = Console()
    if not console.is_terminal:  # piped output: do not squeeze the table into 80 columns
        console = Console(width=max(console.width, 140))
    console.print(table)
    titles = ("Gold turns folded into another turn's memory: recall raw -> with each counted at its memory",
              "Paired comparison, item by item (exact two-sided sign test on the items one system alone gets)")
    for title, (head, body) in zip(titles, (merged_rows(results), paired_rows(results)), strict=True):
        if not body:
            continue
        extra = Table(title=title)
        for i, h in enumerate(head):
            extra.add_column(h, justify="left" if i == 0 else "right", no_wrap=True)
        for row in body:
            extra.add_row(*row)
        console.print(extra)


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def plot_recall_curves(results: dict[str, Any], path: Path) -> None:
    """recall_any@k and recall_all@k against k, one line per system, turn and session level."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = results["ks"]
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.8), sharey=True)
    panels = [("turn", "recall_any"), ("turn", "recall_all"), ("session", "recall_any"), ("session", "recall_all")]
    for ax, (level, metric) in zip(axes, panels, strict=True):
        for name, s in results["systems"].items():
            block = s if level == "turn" else s["session"]
            ax.plot(ks, [block[f"{metric}@{k}"] for k in ks], marker="o", label=name)
        ax.set_title(f"{level} {metric}@k")
        ax.set_xlabel("k")
        ax.set_xticks(ks)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("recall")
    axes[0].set_ylim(0, 1.02)
    axes[-1].legend(fontsize=8, loc="lower right")
    fig.suptitle(f"{results['dataset']} ({results['n_items']} items)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_categories(results: dict[str, Any], path: Path, metric: str = "recall_all@10") -> None:
    """Grouped bars: `metric` per category, one bar per system."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    systems = list(results["systems"])
    cats = _categories(results)
    width = 0.8 / max(len(systems), 1)
    fig, ax = plt.subplots(figsize=(min(16, max(6, 1.6 * len(cats) + 2)), 4.5))
    x = np.arange(len(cats))
    for i, name in enumerate(systems):
        by = results["systems"][name]["by_category"]
        ax.bar(x + i * width, [by.get(c, {}).get(metric, 0.0) for c in cats], width, label=name)
    ax.set_xticks(x + width * (len(systems) - 1) / 2)
    ax.set_xticklabels(cats, rotation=20 if len(cats) < 8 else 45, ha="right", fontsize=8)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel(metric)
    ax.set_title(f"{results['dataset']}: turn-level {metric} by category")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(results: dict[str, Any], directory: str | Path) -> Path:
    """Write `report.md`, `recall_at_k.png` and `categories_*.png` into `directory`; returns the markdown path.

    Only the results JSON is read (its "command", when present, is shown as the way to reproduce)."""
    command = results.get("command")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    plot_recall_curves(results, directory / "recall_at_k.png")
    plot_categories(results, directory / "categories_recall_all@10.png", "recall_all@10")
    plot_categories(results, directory / "categories_recall_any@10.png", "recall_any@10")
    header, rows = table_rows(results)
    parts = [f"# {results['dataset']}: long-horizon recall", ""]
    if command:
        parts += ["Reproduce with:", "", "```", command, "```", ""]
    parts += [f"{results['n_items']} items over {results['n_episodes']} episodes ({results['n_turns']} turns); "
              f"encoder `{results['encoder']}`. Skipped items: {results['skipped'] or 'none'}. "
              f"Repaired data faults: {results.get('repaired') or 'none'}.", "",
              "Turn-level recall@k unless marked *sess* (session level: each session ranked at its best turn). "
              "`full-context` is a set (every turn in its window), so its recall does not depend on k and it "
              "has no MRR/NDCG. Latency excludes encoding (shared, cached), ingest is per observation.", "",
              _markdown_table(header, rows), "", "![recall@k](recall_at_k.png)", ""]
    cats = _categories(results)
    for metric in ("recall_any@10", "recall_all@10"):
        parts += [f"## {metric} by category", ""]
        cat_header = ["system", *[f"{c} (n={_n(results, c)})" for c in cats]]
        cat_rows = [[name, *[_fmt(s["by_category"].get(c, {}).get(metric, "-")) for c in cats]]
                    for name, s in results["systems"].items()]
        parts += [_markdown_table(cat_header, cat_rows), "", f"![{metric}](categories_{metric}.png)", ""]
    head, body = merged_rows(results)
    if body:
        parts += ["## Gold turns folded into another turn's memory", "",
                  "agentmem's write gate skips a duplicate turn (the memory keeps naming the earlier turn) or "
                  "updates a memory with a newer turn (it then names the newer one). A gold turn inside a memory "
                  "that names another turn is a miss in the raw figures; *merged* counts it as found when the "
                  "memory that absorbed it is in the top k (k memories, not k turns). *turns merged*: turns "
                  "without a memory of their own; *gold turns merged*: gold turns (per item) hidden that way.",
                  "", _markdown_table(head, body), ""]
    head, body = paired_rows(results)
    if body:
        parts += ["## Paired comparison", "",
                  "Item by item on turn-level recall: *A only* / *B only* count the items one system gets and the "
                  "other misses; p is the exact two-sided sign test (McNemar's exact test) on those items. "
                  "Per-category counts are in results.json (`paired[].by_category`).", "",
                  _markdown_table(head, body), ""]
    path = directory / "report.md"
    path.write_text("\n".join(parts))
    return path


def _categories(results: dict[str, Any]) -> list[str]:
    """Category names in natural order (qa2 before qa10)."""
    names = {c for s in results["systems"].values() for c in s["by_category"]}
    return sorted(names, key=lambda c: [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", c)])


def _n(results: dict[str, Any], category: str) -> int:
    first = next(iter(results["systems"].values()))
    return first["by_category"].get(category, {}).get("n_items", 0)
