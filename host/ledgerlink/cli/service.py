"""Long-running commands: serve (HTTP and workers), worker, sandbox."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from ledgerlink import jsonio
from ledgerlink.cli.options import (connection_limits, db_url, http_limits, listen_address, positive_int,
                                    service_options)

if TYPE_CHECKING:
    from ledgerlink.engine.runtime import Runtime


def idle_until_interrupted() -> None:
    """Keep the main thread until a signal's handler raises (KeyboardInterrupt: Ctrl-C, or
    SIGTERM with :func:`_install_stop_signals`).

    It wakes every second rather than blocking for good: the kernel may hand a signal sent
    to the process to any of its threads, and then Python runs the handler only when the
    main thread next runs, which a thread blocked on a lock or in a long sleep never does.
    ``ledgerlink worker`` blocked on an Event that way could ignore SIGTERM."""
    import time

    while True:
        time.sleep(1.0)


def _install_stop_signals() -> None:
    import signal

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def _with_workers(args: argparse.Namespace, banner: str, block: Callable[[Runtime, Callable[..., None]], None]) -> int:
    """Build the runtime, start its workers, run ``block(runtime, say)`` until SIGTERM or
    Ctrl-C, then let in-flight runs finish and hand the rest back. ``say(**fields)`` prints
    ``banner`` (``{runtime}``, ``{recipes}``, ``{db}`` and the fields); ``block`` calls it
    once it is ready (a server: once its port is bound)."""
    import logging

    from ledgerlink.engine.runtime import Settings
    from ledgerlink.engine.worker import WorkerPool
    from ledgerlink.engine.operations import build_runtime

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the run log records every request
    runtime = build_runtime(db=db_url(args), recipes=args.recipes, config_file=args.config,
                            settings=Settings(workers=args.workers, lease_seconds=args.lease))
    pool = WorkerPool(runtime, args.workers)
    pool.start()
    _install_stop_signals()

    def say(**fields: object) -> None:
        print(banner.format(runtime=runtime, recipes=len(runtime.registry.active()), db=runtime.store.safe_url,
                            **fields), flush=True)

    idle = runtime.registry.idle_reason()
    if idle:
        logging.getLogger("ledgerlink").warning("%s", idle)
    try:
        block(runtime, say)
    except KeyboardInterrupt:
        pass
    finally:
        pool.stop()
        runtime.close()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from contextlib import ExitStack

    from ledgerlink.web.app import create_app
    from ledgerlink.web.servers import background, serve

    def http(runtime: Runtime, say: Callable[..., None]) -> None:
        with ExitStack() as stack:
            if args.metrics_listen:
                from ledgerlink.web.metrics import metrics_app

                host, port = args.metrics_listen
                running = stack.enter_context(background(metrics_app(runtime), host=host, port=port,
                                                         threads=2))
                print(f"metrics on {running.url}/metrics", flush=True)
            serve(create_app(runtime=runtime), host=args.host, port=args.port, threads=args.threads,
                  limits=connection_limits(args), on_listen=lambda url: say(url=url))

    return _with_workers(args, f"ledgerlink serving on {{url}} with {args.workers} "
                               f"worker(s); {{recipes}} recipe(s); database {{db}}", http)


def cmd_worker(args: argparse.Namespace) -> int:
    def wait(runtime: Runtime, say: Callable[..., None]) -> None:
        say()
        idle_until_interrupted()

    return _with_workers(args, f"ledgerlink worker: {args.workers} worker(s) on {{db}}", wait)


def cmd_sandbox(args: argparse.Namespace) -> int:
    from ledgerlink.connectors.manager import load_catalog
    from ledgerlink.web.servers import serve

    sandbox = load_catalog().sandbox(args.connector)
    options = {}
    for item in args.set or []:
        key, _, value = item.partition("=")
        try:
            options[key] = jsonio.loads(value)
        except jsonio.JSONDecodeError:
            options[key] = value
    unknown = sorted(set(options) - set(sandbox.options))
    if unknown:
        known = "".join(f"\n  {name}: {what}" for name, what in sorted(sandbox.options.items()))
        print(f"error: the {args.connector} sandbox has no option {', '.join(unknown)}; "
              f"it takes:{known}", file=sys.stderr)
        return 2
    try:
        app = sandbox.factory(**options)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _install_stop_signals()
    try:
        serve(app, host=args.host, port=args.port, threads=args.threads, limits=connection_limits(args),
              on_listen=lambda url: print(f"{args.connector} sandbox on {url}", flush=True))
    except KeyboardInterrupt:
        pass
    return 0

#: worker threads a process runs by default: a run mostly waits (for its vendor's answer, for
#: the commit of its step log), and the step logs of the runs in flight share one commit, so
#: four threads complete more runs per second than two at less CPU per run; eight or sixteen
#: complete no more, and take the interpreter from serve's webhook threads (fewer acks/s)
WORKER_THREADS = 4  # serve's; a worker process keeps 2 (see its --workers)


def add_commands(sub: argparse._SubParsersAction) -> None:
    """``serve``, ``worker`` and ``sandbox``."""
    p = sub.add_parser("serve", help="HTTP API and webhooks, plus workers, on a production WSGI server")
    service_options(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--workers", type=int, default=WORKER_THREADS,
                   help=f"worker threads running runs (default {WORKER_THREADS})")
    p.add_argument("--threads", type=positive_int, default=64,
                   help="HTTP threads (default 64: a webhook's thread mostly waits for the commit that "
                        "the deliveries arriving together share, so more threads share each commit)")
    http_limits(p)
    p.add_argument("--lease", type=float, default=60.0,
                   help="seconds a claimed run stays leased; after a crash another worker takes it then")
    p.add_argument("--metrics-listen", type=listen_address, metavar="HOST:PORT",
                   help="also serve GET /metrics here without a token (an address only the scraper "
                        "reaches); on the main address /metrics needs $LEDGERLINK_METRICS_TOKEN or the "
                        "admin token")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="workers only, beside a serve process on the same database")
    service_options(p)
    p.add_argument("--workers", type=int, default=2,
                   help="worker threads running runs (default 2: beside serve, 4 threads completed "
                        "a burst 1.14x faster but took serve + worker to 198 MB of the 200 MB allowed)")
    p.add_argument("--lease", type=float, default=60.0, help="seconds a claimed run stays leased")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("sandbox", help="serve a vendor's loopback sandbox (tests, demos; "
                                       "pip install ledgerlink-sandboxes)")
    p.add_argument("connector")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8081)
    p.add_argument("--threads", type=int, default=16)
    http_limits(p)
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="sandbox option (JSON value)")
    p.set_defaults(func=cmd_sandbox)
