"""``ledgerlink worker`` whose clock-driven triggers read a simulated shared clock.

Run as ``python clocked_worker.py DB RECIPES CONFIG CLOCK_FILE``: the same runtime and
worker pool as ``ledgerlink worker --workers 2``, except that ``Runtime.clock`` reads the
time the test writes in CLOCK_FILE (:class:`simulated_clock.SharedClock`). Prints
``ready`` once its workers run; stops on SIGTERM, as the worker command does.
"""

from __future__ import annotations

import faulthandler
import logging
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/: simulated_clock

from simulated_clock import SharedClock  # noqa: E402

from ledgerlink.engine.operations import build_runtime  # noqa: E402
from ledgerlink.engine.runtime import Settings  # noqa: E402
from ledgerlink.engine.worker import WorkerPool  # noqa: E402


def main(db: str, recipes: str, config: str, clock_file: str) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # the test asks for the stacks of a hung stop
    runtime = build_runtime(db=db, recipes=recipes, config_file=config,
                            settings=Settings(workers=2, lease_seconds=5.0))
    runtime.clock = SharedClock(Path(clock_file))
    pool = WorkerPool(runtime, 2)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    pool.start()
    print("ready", flush=True)
    # a timeout, not a wait for good: the kernel may hand SIGTERM to another thread, and then
    # Python runs the handler only once the main thread runs again
    while not stop.wait(0.5):
        pass
    pool.stop()
    runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
