"""How many signed Stripe webhooks per second ``ledgerlink serve`` accepts, and how fast it acks.

Sets up everything in a temporary directory (``ledgerlink db upgrade`` on SQLite, a
ledgerlink.toml, a copy of recipes/), starts the QuickBooks sandbox (``ledgerlink sandbox
quickbooks --set rate_limit=false``) and ``ledgerlink serve`` as their own processes,
then posts N distinct signed ``invoice.paid`` webhooks (in USD, the sandbox company's home
currency, so that the runs of the ``--workers N`` pass succeed) from
``--concurrency`` keep-alive clients in this process. Every body is built and signed
before the clock starts.

Prints accepted webhooks/s (2xx only), ack latency p50/p90/p99/max, non-2xx answers,
serve's peak RSS (VmHWM) and the targets beside them. By default it runs twice, each on a
fresh database and a fresh serve: ``--workers 0`` (ingest isolated: no run executes) and
``--workers N`` (the runs the webhooks plan compete for the CPU, as in production).

Run: .venv/bin/python bench/ingest.py [--events N] [--workers N] [--threads T] [--profile]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

TARGET_RATE = 1000.0
TARGET_P99_MS = 50.0
TARGET_RSS_MB = 300.0


def one_pass(setup: harness.Setup, sandbox: harness.Process, config: Path, bodies: list[bytes], warmup: list[bytes], workers: int,
             args: argparse.Namespace, label: str) -> dict:
    db_url, db_path = setup.database(f"ingest-{label}")
    serve, url, profile = setup.start_serve(db_url, config, workers, args.threads, label, args.profile)
    port = int(url.rsplit(":", 1)[1])
    try:
        if warmup:
            harness.post_all(port, harness.raw_requests(warmup, port), args.concurrency)
        requests = harness.raw_requests(bodies, port)  # signed now: well inside Stripe's 300 s tolerance
        cpu = harness.CpuMeter({"serve": serve.target_pid, "sandbox": sandbox.target_pid})
        cpu.start()
        result = harness.post_all(port, requests, args.concurrency)
        cpu.stop()
        memory = harness.proc_status(serve.target_pid)
        with harness.readonly_db(db_path) as db:
            stored = db.execute("SELECT count(*) FROM events WHERE event_id LIKE ?", (f"evt_{label}_%",)).fetchone()[0]
            runs = dict(db.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall())
        problems = harness.log_problems(serve)
    finally:
        serve.stop()  # SIGTERM; under py-spy this also writes the profile
    return {"result": result, "memory": memory, "stored": stored, "runs": runs, "problems": problems,
            "profile": profile, "workers": workers, "log": serve.log_path, "cpu": cpu,
            "hint": harness.profile_hint(profile)}


def report(out: dict, args: argparse.Namespace) -> bool:
    result: harness.LoadResult = out["result"]
    lat = harness.latency_ms(result)
    rate = result.accepted / result.elapsed if result.elapsed > 0 else 0.0
    hwm = out["memory"].get("VmHWM", 0) / harness.MB
    rows = [
        ("accepted webhooks/s (2xx)", f"{rate:,.0f}", f">= {TARGET_RATE:,.0f}", rate >= TARGET_RATE),
        ("ack latency p50", f"{lat['p50']:.1f} ms", "", None),
        ("ack latency p90", f"{lat['p90']:.1f} ms", "", None),
        ("ack latency p99", f"{lat['p99']:.1f} ms", f"< {TARGET_P99_MS:.0f} ms", lat["p99"] < TARGET_P99_MS),
        ("ack latency max", f"{lat['max']:.1f} ms", "", None),
        ("non-2xx answers", f"{result.non_2xx}", "0", result.non_2xx == 0),
        ("connection errors", f"{len(result.errors)}", "0", not result.errors),
        ("events stored (of 2xx)", f"{out['stored']:,} / {result.accepted:,}", "all",
         out["stored"] == result.accepted),
        ("serve peak RSS (VmHWM)", f"{hwm:,.0f} MB", f"<= {TARGET_RSS_MB:.0f} MB", 0 < hwm <= TARGET_RSS_MB),
    ]
    print(f"\n--workers {out['workers']} --threads {args.threads}: {result.sent:,} webhooks in "
          f"{result.elapsed:.2f} s at concurrency {args.concurrency}")
    harness.table(rows)
    statuses = ", ".join(f"{s}: {n:,}" for s, n in sorted(result.statuses.items()))
    print(f"  answers: {statuses}; runs at the end of the pass: {out['runs'] or 'none'}")
    print(f"  {out['cpu'].summary()}")
    for status, body in result.bad_samples:
        print(f"  non-2xx sample: {status} {body.decode('utf-8', 'replace')}")
    for error in result.errors[:3]:
        print(f"  connection error: {error}")
    counts, first = out["problems"]
    if counts:
        print(f"  serve log ({out['log']}): " + ", ".join(f"{k} x{v}" for k, v in sorted(counts.items())))
        for line in first:
            print(f"    {line}")
    if out["profile"]:
        print(f"  profile (speedscope; open at https://www.speedscope.app): {out['profile']}"
              f"{'' if args.keep else ' -- removed with the directory: add --keep'}")
        if out["hint"]:
            print(f"  where serve's {'thread holding the GIL' if args.profile == 'gil' else 'busy threads'} spent the samples:")
            for line in out["hint"]:
                print(f"    {line}")
    return rate >= TARGET_RATE and lat["p99"] < TARGET_P99_MS and 0 < hwm <= TARGET_RSS_MB and result.non_2xx == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000, help="signed webhooks to post (default 5000)")
    parser.add_argument("--concurrency", type=int, default=16, help="clients posting at once (default 16)")
    parser.add_argument("--workers", type=int, default=4, help="serve --workers for the main pass (default 4)")
    parser.add_argument("--threads", type=int, default=64, help="serve --threads (default 64, serve's own)")
    parser.add_argument("--no-isolated", dest="isolated", action="store_false",
                        help="skip the --workers 0 pass (ingest alone, no run executing)")
    parser.add_argument("--warmup", type=int, default=32,
                        help="untimed webhooks first (amount 0: the recipe's filter plans no run) (default 32)")
    parser.add_argument("--profile", nargs="?", const="wall", choices=("wall", "gil"), default=None,
                        help="run serve under py-spy and print where its threads were; 'gil' samples only "
                             "the thread holding the GIL (where the CPU goes) (default: wall, every busy thread)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, databases)")
    args = parser.parse_args(argv)

    print(harness.machine())
    modes = ([0] if args.isolated and args.workers != 0 else []) + [args.workers]
    print(f"{args.events:,} distinct signed invoice.paid webhooks in {harness.HOME_CURRENCY.upper()} (the sandbox "
          f"company's home currency; another would need an ExchangeRate), concurrency "
          f"{args.concurrency}, {args.warmup} untimed warm-up webhooks per pass; serve on SQLite, "
          f"passes: " + ", ".join(f"--workers {w}" for w in modes))
    print("load generator, serve and the QuickBooks sandbox share this machine's CPUs")
    setup = harness.Setup(keep=args.keep)
    ok = True
    try:
        sandbox, sandbox_url = setup.start_sandbox()
        config = setup.config(sandbox_url)
        for workers in modes:
            label = f"w{workers}"
            t0 = time.perf_counter()
            bodies = harness.invoice_bodies(args.events, label)
            warmup = harness.invoice_bodies(args.warmup, f"warm{label}", amount=0)
            print(f"\n[{label}] built {len(bodies):,} bodies ({sum(map(len, bodies)) / len(bodies):,.0f} bytes each) "
                  f"in {time.perf_counter() - t0:.1f} s (before the clock)")
            out = one_pass(setup, sandbox, config, bodies, warmup, workers, args, label)
            ok = report(out, args) and ok
        if not ok and not args.profile:
            print("\nA target is not met: rerun with --profile (py-spy) to see where serve spends its time.")
    finally:
        setup.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
