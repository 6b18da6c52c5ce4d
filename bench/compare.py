"""The baseline and the working tree side by side on the shared harness: the throughput table.

Each side is a ledgerlink installation: the baseline (commit ``0dab7d3`` by default, checked
out with ``git worktree add`` into a cache folder with its own venv, both made once and
reused) and the working tree (this interpreter). For every run, deployment and side, in the
order A B A B (so the machine's drift falls on both sides alike), a fresh temporary directory
gets a freshly migrated SQLite database, a ledgerlink.toml whose QuickBooks connection points
at ``bench/sink.py`` with no rate limit, and the invoice-paid journal recipe with its journal
entry step alone (as bench/burst.py runs it: the sink answers that endpoint only); then
``bench/loadgen.py`` posts the warm-up and the timed events while ``bench/sampler.py`` samples
CPU and RSS of every ledgerlink process (serve, and the worker when there is one).

Prints, per deployment, the issue's table for both sides (min / median / max over the runs)
and the ratio working tree / baseline of each A B pair (min / median / max). Absolute
figures depend on what else the machine runs; the ratios are the figures to compare.

Deployments: ``serve`` (serve runs the runs itself) and ``worker`` (``serve --workers 0``
plus one ``ledgerlink worker``), each with the side's own default thread counts.

Run: .venv/bin/pip install -e '.[bench]' && .venv/bin/python bench/compare.py [--quick]
     [--events N] [--concurrency C] [--runs R] [--deployments serve,worker]
     [--profile DIR] [--baseline COMMIT | --baseline-root DIR --baseline-python PYTHON] [--tree-serve-args ARGS] [--tree-worker-args ARGS]
     [--pg URL]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import burst  # noqa: E402
import harness  # noqa: E402
from ledgerlink import jsonio  # noqa: E402
from ledgerlink_stripe import examples  # noqa: E402

HERE = Path(__file__).resolve().parent
BASELINE = "0dab7d3"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ledgerlink-bench"
DEPLOYMENTS = ("serve", "worker")
#: (figure, key in a run's figures, format, lower is better?)
FIGURES = [
    ("webhooks acknowledged /s", "acks_per_s", "{:,.0f}", False),
    ("ack p99", "ack_p99_ms", "{:,.1f} ms", True),
    ("runs completed end to end /s", "runs_per_s", "{:,.0f}", False),
    ("CPU per event (all processes)", "cpu_ms_per_event", "{:,.2f} ms", True),
    ("peak RSS (all processes)", "peak_rss_mb", "{:,.0f} MB", True),
]


@dataclass(frozen=True)
class Side:
    """One ledgerlink installation: its label, interpreter and source tree (for its recipes)."""

    label: str
    python: Path
    root: Path

    @property
    def command(self) -> str:
        """The installation's ``ledgerlink`` script (an old tree has no ``python -m ledgerlink``)."""
        return str(self.python.with_name("ledgerlink"))


def run_quietly(args: list[str], cwd: Path | None = None, timeout: float = 900) -> None:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def baseline_side(commit: str, folder: Path | None) -> Side:
    """The baseline at ``commit``: a git worktree with its own venv, made once and reused."""
    root = folder or CACHE / f"baseline-{commit}"
    venv = root / "venv"
    marker = venv / ".ledgerlink-installed"
    if not (root / "pyproject.toml").exists():
        print(f"checking out {commit} into {root} (git worktree add; once)")
        root.parent.mkdir(parents=True, exist_ok=True)
        run_quietly(["git", "-C", str(harness.REPO), "worktree", "add", "--detach", str(root), commit])
    if not marker.exists():
        print(f"installing {commit} into {venv} (once)")
        run_quietly([sys.executable, "-m", "venv", str(venv)])
        run_quietly([str(venv / "bin" / "pip"), "install", "-q", "-e", str(root)])
        marker.touch()
    return Side(f"baseline {commit}", venv / "bin" / "python", root)


def working_tree() -> Side:
    return Side("working tree", Path(sys.executable), harness.REPO)


def start(setup: harness.Setup, side: Side, name: str, args: list[str],
          profile: Path | None = None) -> harness.Process:
    """``ledgerlink ARGS`` of ``side``; under bench/profiled.py (writing ``profile``.*) when given."""
    command = [str(side.python), str(HERE / "profiled.py"), str(profile)] if profile else [side.command]
    process = harness.Process(name, [*command, *args],
                              setup.directory / f"{name}.log", setup.env, setup.directory)
    setup.processes.append(process)
    return process


def pg_database(base_url: str) -> str:
    """A new, empty PostgreSQL database beside ``base_url``'s."""
    import uuid

    import sqlalchemy as sa

    from ledgerlink import store as store_module

    name = f"ll_compare_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(store_module.driver_url(base_url), isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return sa.engine.make_url(base_url).set(database=name).render_as_string(hide_password=False)


def prepare(setup: harness.Setup, side: Side, sink_url: str, pg: str = "") -> tuple[str, Path, Path]:
    """The side's database (migrated by the side itself; a new one beside ``pg`` when given,
    else SQLite), recipe folder and config."""
    recipes = setup.directory / "recipe"
    recipes.mkdir()
    recipe = jsonio.loads((side.root / "recipes" / burst.RECIPE).read_bytes())
    (recipes / burst.RECIPE).write_text(jsonio.dumps(burst.entry_only(recipe)))
    config = setup.config(sink_url)
    config.write_text(config.read_text().replace(f'realm_id = "{harness.REALM}"', f'realm_id = "{burst.REALM}"'))
    db_path = setup.directory / "compare.db"
    db_url = pg_database(pg) if pg else f"sqlite:///{db_path}"
    migrate = subprocess.run([side.command, "db", "upgrade", "--db", db_url],
                             env=setup.env, cwd=setup.directory, capture_output=True, text=True, timeout=120)
    if migrate.returncode != 0:
        raise SystemExit(f"{side.label}: ledgerlink db upgrade failed:\n{migrate.stdout}{migrate.stderr}")
    return db_url, recipes, config


def one_run(side: Side, deployment: str, args: argparse.Namespace, tag: str) -> dict[str, float]:
    """One fresh measurement of ``side`` in ``deployment``: the table's figures."""
    setup = harness.Setup(keep=args.keep)
    try:
        event = setup.directory / "invoice.paid.json"
        event.write_text(jsonio.dumps(examples.invoice_paid(harness.HOME_CURRENCY, 123456, "evt_cmp", "C-1")))
        sink_url = harness.start_sink(setup)
        db_url, recipes, config = prepare(setup, side, sink_url, args.pg)
        common = ["--db", db_url, "--recipes", str(recipes), "--config", str(config)]
        port = harness.free_port()
        url = f"http://127.0.0.1:{port}"
        serve_args = ["serve", *common, "--port", str(port)] + (["--workers", "0"] if deployment == "worker" else [])
        profile = None
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            profile = args.profile / f"{tag}-{'baseline' if side.label.startswith('baseline') else 'tree'}"
        if side.label == "working tree":
            serve_args += args.tree_serve_args.split()
        serve = start(setup, side, "serve", serve_args, profile and profile.with_name(profile.name + "-serve"))
        harness.wait_for("serve to answer /healthz", lambda: harness.http_get_json(f"{url}/healthz") is not None,
                         serve)
        pids = [serve.target_pid]
        if deployment == "worker":
            worker_args = ["worker", *common] + (args.tree_worker_args.split() if side.label == "working tree" else [])
            pids.append(start(setup, side, "worker", worker_args,
                              profile and profile.with_name(profile.name + "-worker")).target_pid)
        if args.warmup:
            burst.loadgen(url, sink_url, event, args.warmup, min(16, args.concurrency), f"w{tag}")
        if profile is not None:  # the profiles count from here: the timed events alone
            for pid in pids:
                os.kill(pid, signal.SIGUSR1)
        sampled = setup.directory / "sampler.json"
        sampler = subprocess.Popen([sys.executable, str(HERE / "sampler.py"), str(sampled), *map(str, pids)])
        try:
            result = burst.loadgen(url, sink_url, event, args.events, args.concurrency, f"t{tag}")
        finally:
            sampler.send_signal(signal.SIGTERM)
            sampler.wait(30)
        usage = json.loads(sampled.read_text())
        problems, _ = harness.log_problems(serve)
    finally:
        setup.close()
    ack, e2e = result["ack"], result["e2e"]
    return {"acks_per_s": ack["req_per_s"], "ack_p99_ms": ack["p99_ms"],
            "runs_per_s": e2e["exec_per_s"] or 0.0,
            "cpu_ms_per_event": usage["cpu_s"] * 1000 / args.events, "peak_rss_mb": usage["peak_rss_mb"],
            "non_2xx": ack["errors"], "lost": e2e["lost"], "duplicated": e2e["duplicates"],
            "errors_logged": problems.get("ERROR", 0) + problems.get("Traceback", 0)}


def spread(values: list[float], fmt: str) -> str:
    """min / median / max of ``values`` (one value when there is one)."""
    if len(values) == 1:
        return fmt.format(values[0])
    return " / ".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))


def ratios(base: list[dict[str, float]], new: list[dict[str, float]], key: str) -> list[float]:
    """working tree / baseline for each A B pair (measured one after the other)."""
    return [b[key] / a[key] for a, b in zip(base, new) if a[key]]


def print_table(deployment: str, sides: list[Side], results: dict[str, list[dict[str, float]]]) -> None:
    base, new = results[sides[0].label], results[sides[1].label]
    title = {"serve": "`serve`", "worker": "`serve --workers 0` + 1 `worker`"}[deployment]
    runs = len(base)
    print(f"\n{title}, {runs} run{'s' if runs > 1 else ''} each side"
          f"{' (min / median / max)' if runs > 1 else ''}:")
    rows = [("figure", sides[0].label, sides[1].label, "ratio (tree / baseline)")]
    for name, key, fmt, _ in FIGURES:
        rows.append((name, spread([r[key] for r in base], fmt), spread([r[key] for r in new], fmt),
                     spread(ratios(base, new, key), "{:.2f}x") if ratios(base, new, key) else "n/a"))
    for name, key in (("non-2xx acks", "non_2xx"), ("lost", "lost"), ("duplicated", "duplicated"),
                      ("errors in serve's log", "errors_logged")):
        rows.append((name, str(sum(int(r[key]) for r in base)), str(sum(int(r[key]) for r in new)), ""))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for index, row in enumerate(rows):
        print("| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " |")
        if index == 0:
            print("|" + "|".join("-" * (width + 2) for width in widths) + "|")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000, help="timed events per run (default 3000)")
    parser.add_argument("--warmup", type=int, default=300, help="untimed events first, at 16 senders (default 300)")
    parser.add_argument("--concurrency", "-c", type=int, default=16, help="concurrent senders (default 16)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each side per deployment (default 3)")
    parser.add_argument("--deployments", default=",".join(DEPLOYMENTS),
                        help=f"comma-separated, of {', '.join(DEPLOYMENTS)} (default both)")
    parser.add_argument("--baseline", default=BASELINE, help=f"the baseline commit (default {BASELINE})")
    parser.add_argument("--baseline-root", type=Path,
                        help="the baseline's source tree (default: a git worktree in the cache folder)")
    parser.add_argument("--baseline-python", type=Path,
                        help="an interpreter the baseline is already installed in (with --baseline-root)")
    parser.add_argument("--pg", default="", metavar="URL",
                        help="PostgreSQL instead of SQLite: each run gets a new database beside URL's")
    parser.add_argument("--tree-serve-args", default="", metavar="ARGS",
                        help="more arguments for the working tree's serve only, e.g. '--processes 2' "
                             "(against --baseline-root of the same tree, it measures just that option)")
    parser.add_argument("--tree-worker-args", default="", metavar="ARGS",
                        help="more arguments for the working tree's `ledgerlink worker` (e.g. --threads 4)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 60 events, warm-up 10, concurrency 4, one run, unless given")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="run every ledgerlink process under bench/profiled.py: cProfile of all "
                             "threads and SQL statements counted, written into DIR per run and side")
    parser.add_argument("--keep", action="store_true", help="keep each run's temporary directory")
    given = set(a.split("=")[0] for a in (argv if argv is not None else sys.argv[1:]))
    args = parser.parse_args(argv)
    if args.quick:
        for flag, attr, value in (("--events", "events", 60), ("--warmup", "warmup", 10),
                                  ("--concurrency", "concurrency", 4), ("--runs", "runs", 1)):
            if flag not in given and not (flag == "--concurrency" and "-c" in given):
                setattr(args, attr, value)
    deployments = [d.strip() for d in args.deployments.split(",") if d.strip()]
    unknown = [d for d in deployments if d not in DEPLOYMENTS]
    if unknown or not deployments:
        parser.error(f"--deployments: {', '.join(unknown) or 'none given'}; choose from {', '.join(DEPLOYMENTS)}")
    if args.events < 1 or args.runs < 1 or args.concurrency < 1:
        parser.error("--events, --runs and --concurrency must be at least 1")
    if args.baseline_python is not None:
        if args.baseline_root is None:
            parser.error("--baseline-python needs --baseline-root (the baseline's recipes)")
        base = Side(f"baseline {args.baseline}", args.baseline_python, args.baseline_root)
    else:
        base = baseline_side(args.baseline, args.baseline_root)
    sides = [base, working_tree()]

    print(harness.machine())
    print(f"{args.events:,} signed invoice.paid events at {args.concurrency} senders after a warm-up of "
          f"{args.warmup}, {args.runs} run(s) per side, A B A B, a fresh SQLite database each run; "
          f"bench/sink.py stands in for QuickBooks' journal entry endpoint")
    print("the load generator, the sink and both sides share this machine: absolute figures depend "
          "on its load, the ratios of adjacent runs much less")
    results = {d: {side.label: [] for side in sides} for d in deployments}
    for run in range(args.runs):
        for deployment in deployments:
            for index, side in enumerate(sides):
                tag = f"{os.getpid()}r{run}{deployment[0]}{index}"
                figures = one_run(side, deployment, args, tag)
                results[deployment][side.label].append(figures)
                print(f"  run {run + 1} {deployment:<6} {side.label:<17} "
                      f"{figures['runs_per_s']:>7,.0f} runs/s  {figures['acks_per_s']:>7,.0f} acks/s  "
                      f"p99 {figures['ack_p99_ms']:>7,.1f} ms  {figures['cpu_ms_per_event']:.2f} ms CPU/event",
                      flush=True)
    for deployment in deployments:
        print_table(deployment, sides, results[deployment])
    clean = all(r["non_2xx"] == 0 and r["lost"] == 0 and r["duplicated"] == 0
                for by_side in results.values() for rs in by_side.values() for r in rs)
    if not clean:
        print("\nSome events were refused, lost or duplicated: see the rows above (--keep keeps the logs).")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
