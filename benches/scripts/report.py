#!/usr/bin/env python3
"""Turns criterion's estimates into the tables and plots of docs/benchmarks.md.

Reads target/criterion/**/new/{benchmark,estimates}.json (medians), prints
Markdown tables of ratios to stdout, and writes SVG plots to docs/img/.

    python3 benches/scripts/report.py [--criterion target/criterion] [--img docs/img]
        [--interleaved system.txt ...]

--interleaved takes the saved output of `cargo bench --bench alloc_system --
--interleaved` (and the other allocators) and plots its 1 KiB and two-thread
tables, whose ratios were measured round by round at the same moments.

Ratios are only meaningful between rows of one run: run each bench binary
once, then this script.
"""
import argparse
import glob
import json
import os

SIZE_NAMES = {512: "512 B", 1 << 10: "1 KiB", 4 << 10: "4 KiB", 16 << 10: "16 KiB",
              64 << 10: "64 KiB", 256 << 10: "256 KiB", 1 << 20: "1 MiB",
              4 << 20: "4 MiB", 16 << 20: "16 MiB", 20 << 20: "20 MiB (oversized)"}


def load(root):
    """{(group, function, value): median ns}"""
    results = {}
    for path in glob.glob(os.path.join(root, "**", "new", "benchmark.json"), recursive=True):
        with open(path) as f:
            bench = json.load(f)
        with open(os.path.join(os.path.dirname(path), "estimates.json")) as f:
            median = json.load(f)["median"]["point_estimate"]
        group = bench["group_id"]
        function = bench.get("function_id") or ""
        value = bench.get("value_str") or ""
        results[(group, function, value)] = median
    return results


def fmt_ns(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.1f} ns"


def size_name(value):
    try:
        return SIZE_NAMES.get(int(value), value)
    except ValueError:
        return value


def allocator_tables(results, out):
    for allocator in ["system", "mimalloc", "jemalloc"]:
        for workload in ["untouched", "write_all", "write_half"]:
            rows = {}
            for (group, function, value), ns in results.items():
                if group in (f"{allocator}/{workload}", f"{allocator}/{workload}_large"):
                    rows.setdefault(int(value), {})[function] = ns
            if not rows:
                continue
            out.append(f"\n#### `{allocator}`, {workload}\n")
            if workload == "untouched":
                out.append("| size | mempool | vec | mempool ÷ vec |")
                out.append("|---|---|---|---|")
                for size in sorted(rows):
                    r = rows[size]
                    if "mempool" in r and "vec" in r:
                        out.append(f"| {size_name(size)} | {fmt_ns(r['mempool'])} | {fmt_ns(r['vec'])} "
                                   f"| {r['mempool'] / r['vec']:.2f} |")
                continue
            out.append("| size | floor (write+zero) | memset | mempool | ÷ floor | ÷ memset "
                       "| mempool, no zeroing ÷ memset | vec | vec ÷ floor | mempool ÷ vec |")
            out.append("|---|---|---|---|---|---|---|---|---|---|")
            for size in sorted(rows):
                r = rows[size]
                if not all(k in r for k in ("floor", "memset", "mempool", "vec")):
                    continue
                nozero = f"{r['mempool_nozero'] / r['memset']:.2f}" if "mempool_nozero" in r else "–"
                out.append(
                    f"| {size_name(size)} | {fmt_ns(r['floor'])} | {fmt_ns(r['memset'])} | {fmt_ns(r['mempool'])} "
                    f"| {r['mempool'] / r['floor']:.2f} | {r['mempool'] / r['memset']:.2f} | {nozero} "
                    f"| {fmt_ns(r['vec'])} | {r['vec'] / r['floor']:.2f} | {r['mempool'] / r['vec']:.2f} |")


PEERS = ["mempool", "vec", "zeropool", "opool", "object_pool", "byte_pool"]


def peer_tables(results, out):
    for workload in ["write_all", "untouched"]:
        group = f"peers/{workload}"
        sizes = sorted({int(v) for (g, _, v) in results if g == group})
        if not sizes:
            continue
        out.append(f"\n#### peers, {workload}\n")
        if workload == "write_all":
            out.append("| contender | " + " | ".join(f"{size_name(s)} | × floor" for s in sizes) + " |")
            out.append("|---|" + "---|---|" * len(sizes))
            for name in ["floor", "memset"] + PEERS:
                cells = []
                for s in sizes:
                    ns = results.get((group, name, str(s)))
                    floor = results.get((group, "floor", str(s)))
                    cells += [fmt_ns(ns) if ns else "–", f"{ns / floor:.2f}" if ns and floor else "–"]
                out.append(f"| {name} | " + " | ".join(cells) + " |")
        else:
            out.append("| contender | " + " | ".join(size_name(s) for s in sizes) + " |")
            out.append("|---|" + "---|" * len(sizes))
            for name in PEERS:
                cells = [fmt_ns(results[(group, name, str(s))]) if (group, name, str(s)) in results else "–"
                         for s in sizes]
                out.append(f"| {name} | " + " | ".join(cells) + " |")


def thread_tables(results, out):
    for group in ["threads/1k_write_all", "threads/kafka_mix"]:
        counts = sorted({int(v) for (g, _, v) in results if g == group})
        if not counts:
            continue
        out.append(f"\n#### {group} (per-thread time per op)\n")
        out.append("| contender | " + " | ".join(f"{t} thr" for t in counts)
                   + " | " + " | ".join(f"{t} thr ÷ 1 thr" for t in counts if t > 1) + " |")
        out.append("|---|" + "---|" * (2 * len(counts) - 1))
        names = [n for n in PEERS if any((group, n, str(t)) in results for t in counts)]
        for name in names:
            base = results.get((group, name, "1"))
            times = [results.get((group, name, str(t))) for t in counts]
            cells = [fmt_ns(t) if t else "–" for t in times]
            ratios = [f"{t / base:.2f}" if t and base else "–" for c, t in zip(counts, times) if c > 1]
            out.append(f"| {name} | " + " | ".join(cells + ratios) + " |")
    group = "producer_consumer/kafka_mix"
    rows = {f: ns for (g, f, _), ns in results.items() if g == group}
    if rows:
        out.append(f"\n#### {group} (time per buffer handed over)\n")
        out.append("| contender | per buffer | ÷ vec |")
        out.append("|---|---|---|")
        for name in PEERS:
            if name in rows:
                ratio = f"{rows[name] / rows['vec']:.2f}" if "vec" in rows else "–"
                out.append(f"| {name} | {fmt_ns(rows[name])} | {ratio} |")


def plots(results, img):
    try:
        import matplotlib
        matplotlib.use("Agg")
        matplotlib.rcParams["svg.fonttype"] = "none"
        import matplotlib.pyplot as plt
    except ImportError:
        print("\n(matplotlib missing: `pip install matplotlib` for the plots)")
        return
    os.makedirs(img, exist_ok=True)

    # 1. Single thread, write_all, × floor by size, for each allocator's vec and mempool.
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for allocator, style in [("system", "-"), ("mimalloc", "--"), ("jemalloc", ":")]:
        for name, colour in [("mempool", "tab:blue"), ("vec", "tab:red")]:
            points = []
            for (group, function, value), ns in results.items():
                if group.startswith(f"{allocator}/write_all") and function == name:
                    floor = results.get((group, "floor", value))
                    if floor:
                        points.append((int(value), ns / floor))
            if points:
                points.sort()
                ax.plot([p[0] for p in points], [p[1] for p in points], style, color=colour,
                        marker="o", markersize=3, label=f"{name} ({allocator})")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_xlabel("request size (bytes)")
    ax.set_ylabel("time ÷ floor (write+zero)")
    ax.set_title("get, write every byte, drop: single thread")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(os.path.join(img, "single_thread_write_all.svg"))
    plt.close(fig)

    # 2. Peers at 1 KiB, × floor.
    group = "peers/write_all"
    floor = results.get((group, "floor", "1024"))
    if floor:
        names = [n for n in PEERS if (group, n, "1024") in results]
        ratios = [results[(group, n, "1024")] / floor for n in names]
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.bar(names, ratios, color=["tab:blue" if n == "mempool" else "tab:grey" for n in names])
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_ylabel("time ÷ floor")
        ax.set_title("1 KiB get, write, drop (zeroed for the next user)")
        fig.tight_layout()
        fig.savefig(os.path.join(img, "peers_1k.svg"))
        plt.close(fig)

    # 3. Two threads ÷ one thread, 1 KiB.
    group = "threads/1k_write_all"
    names = [n for n in PEERS if (group, n, "1") in results and (group, n, "2") in results]
    if names:
        ratios = [results[(group, n, "2")] / results[(group, n, "1")] for n in names]
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.bar(names, ratios, color=["tab:blue" if n == "mempool" else "tab:grey" for n in names])
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_yscale("log")
        ax.set_ylabel("per-thread time, 2 threads ÷ 1")
        ax.set_title("1 KiB get, write, drop on one shared pool")
        fig.tight_layout()
        fig.savefig(os.path.join(img, "threads_1k.svg"))
        plt.close(fig)


def interleaved_tables(paths):
    """{title: [(name, ns, ratio)]} from saved `--interleaved` outputs."""
    tables = {}
    for path in paths:
        title = None
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("|") and "interleaved rounds" in line:
                    title = line.split(" (")[0]
                    tables[title] = []
                elif title and line.startswith("| ") and not line.startswith("| candidate"):
                    cells = [c.strip() for c in line.strip("|").split("|")]
                    try:
                        tables[title].append((cells[0], float(cells[1]), float(cells[2])))
                    except (ValueError, IndexError):
                        pass
    return tables


def interleaved_plots(tables, img):
    import matplotlib
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"
    import matplotlib.pyplot as plt
    os.makedirs(img, exist_ok=True)
    for title, name in [("system: 1024 B, get + write all + drop", "interleaved_1k.svg"),
                        ("system: 1 KiB get + write all + drop, per-thread time, one shared pool",
                         "interleaved_threads_1k.svg")]:
        rows = tables.get(title)
        if not rows:
            continue
        base = rows[0][1] if name == "interleaved_1k.svg" else None
        labels = [r[0] for r in rows]
        values = [r[1] / base if base else r[2] for r in rows]
        fig, ax = plt.subplots(figsize=(7, 3.2))
        ax.bar(labels, values, color=["tab:blue" if l.startswith("mempool") else "tab:grey" for l in labels])
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_ylabel("÷ floor" if base else "÷ mempool, 1 thread")
        ax.set_title(title, fontsize=9)
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
        fig.tight_layout()
        fig.savefig(os.path.join(img, name))
        plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--criterion", default="target/criterion")
    parser.add_argument("--img", default="docs/img")
    parser.add_argument("--interleaved", nargs="*", default=[])
    args = parser.parse_args()
    if args.interleaved:
        interleaved_plots(interleaved_tables(args.interleaved), args.img)
    results = load(args.criterion)
    out = []
    allocator_tables(results, out)
    peer_tables(results, out)
    thread_tables(results, out)
    print("\n".join(out))
    plots(results, args.img)


if __name__ == "__main__":
    main()
