"""Workers: claim due runs under a lease, perform them, store how they ended.

A :class:`Worker` takes due runs one at a time from the claims its pool's threads share
(:mod:`ledgerlink.engine.claims`: one statement claims runs for all of them), performs each through
:func:`ledgerlink.engine.runner.perform` and stores the outcome as the retry policy
(:mod:`ledgerlink.engine.retry`) says; between runs it stores the ticks of clock-driven
triggers (:mod:`ledgerlink.engine.ticker`), fetches notifications' entities and runs due
polls (:mod:`ledgerlink.engine.fetching`). When an outcome is stored, plugins
hear of it through ``ledgerlink_run_ended`` and ``ledgerlink_fetch_ended``
(:mod:`ledgerlink.contract.hookspecs`). :class:`WorkerPool` runs N workers as threads.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid

import sqlalchemy as sa

from ledgerlink.engine import fetching, review, review_steps, ticker
from ledgerlink.engine.claims import Claims
from ledgerlink.engine.events import call_hook
from ledgerlink.engine.inbox import UNREADABLE, every_attempt
from ledgerlink.engine.retry import Fail, LeaseLost, Retry, Skipped, backoff, jittered
from ledgerlink.engine.runner import LiveRun, perform
from ledgerlink.engine.runtime import Runtime
from ledgerlink.errors import LedgerlinkError, NeedsReauth
from ledgerlink.store import ClaimedFetch, ClaimedRun, unavailable

log = logging.getLogger("ledgerlink")


def unique_name() -> str:
    """A lease owner's name no other worker has: host, process id and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Looks:
    """When the workers sharing it next look for side work (ticks, fetches, polls): a pool's
    threads share one, so the pool looks once a ``LOOK_EVERY`` however many threads it has,
    one thread at a time, instead of each thread looking on its own."""

    def __init__(self) -> None:
        #: the monotonic time of the next look
        self.next = 0.0
        #: held by the thread looking
        self.busy = threading.Lock()


class Worker:
    """Claims due runs and runs them, step by step, logging every attempt."""

    #: how often a worker looks for due polls and for fetches stored by other processes
    LOOK_EVERY = 1.0

    def __init__(self, runtime: Runtime, name: str | None = None, claims: Claims | None = None,
                 looks: Looks | None = None) -> None:
        self.runtime = runtime
        self.name = name or unique_name()
        self.stop = threading.Event()
        self.idle = threading.Event()
        self._looks = looks or Looks()
        self._fetches = any(t.fetch is not None for t in runtime.catalog.triggers.values())
        self._listens = runtime.store.engine.dialect.name == "postgresql"
        #: runs (id, lease owner) in hand when the store stopped taking writes: handed back,
        #: uncounted, once it does
        self._hand_back: list[tuple[int, str]] = []
        #: where this worker takes its runs from: its own claims, or its pool's
        self.claims = claims or Claims(runtime.store, self.name, runtime.settings.lease_seconds,
                                       runtime.settings.batch)

    @property
    def _next_look(self) -> float:
        return self._looks.next

    @_next_look.setter
    def _next_look(self, when: float) -> None:
        self._looks.next = when

    def _store_ready(self) -> bool:
        """False while the store cannot take writes (the store logs when that starts and
        ends); then runs this worker had claimed are handed back without counting an attempt."""
        store = self.runtime.store
        if not store.last_health.writable and not store.health().writable:
            return False
        while self._hand_back:
            try:
                store.finish(*self._hand_back[0], "pending", due_at=time.time(), count_attempt=False)
            except sa.exc.DBAPIError as exc:
                if not unavailable(exc):
                    raise
                return False
            self._hand_back.pop(0)
        return True

    def run_forever(self) -> None:
        settings = self.runtime.settings
        while not self.stop.is_set():
            try:
                ready = self._store_ready()
            except Exception:  # a bug: the lease of the runs to hand back expires instead
                log.exception("worker %s cannot hand back runs %s", self.name, self._hand_back)
                self._hand_back.clear()
                ready = True
            if not ready:
                self.stop.wait(1.0)
                continue
            try:
                self.side_work()
            except sa.exc.DBAPIError as exc:  # the database is away: runs wait for it too
                if not unavailable(exc):
                    log.warning("worker %s cannot fetch notifications or poll: %s", self.name, exc.orig)
            except Exception:  # a bug: runs still go on
                log.exception("worker %s: fetching notifications or polling failed", self.name)
            try:
                run = self.claims.take()
            except Exception as exc:  # the database is away: wait, never lose the loop
                if not unavailable(exc):  # a store error is logged once by the store
                    log.warning("worker %s cannot claim runs: %s", self.name, exc)
                self.stop.wait(1.0)
                continue
            if run is None:
                self.idle.set()
                # on PostgreSQL, other processes' work arrives by NOTIFY: polling is the fallback
                self.runtime.wait_for_work(settings.poll_interval if not self._listens
                                           else max(settings.poll_interval, 0.5))
                continue
            self.idle.clear()
            try:
                self._perform_claimed(run)
            finally:
                self.claims.done(run)
        # graceful stop: hand back what the pool claimed and no thread started
        for rest in self.claims.left():
            self.runtime.store.finish(rest.id, rest.owner, "pending", due_at=time.time(), count_attempt=False)

    def _perform_claimed(self, run: ClaimedRun) -> None:
        """Perform a run taken from the claims; when the store cannot take writes, the run
        goes back uncounted once it can (a step already sent is sent again with its
        idempotency key, so nothing is created twice)."""
        try:
            self.process(run)
        except Exception as exc:
            if unavailable(exc):
                self.runtime.store.note_unavailable(exc)  # the store says so once
                self._hand_back.append((run.id, run.owner or self.name))
                return
            # a bug must not stop the worker or strand the run
            log.exception("worker %s: run %s failed unexpectedly; it will be retried", self.name, run.id)
            try:
                self._reschedule(run, Retry("unexpected error in ledgerlink (see the server log)"))
            except Exception:  # the database is away too: the lease expires and another worker retries
                log.exception("worker %s: cannot reschedule run %s", self.name, run.id)

    def process(self, run: ClaimedRun) -> str:
        """Perform one claimed run (:func:`ledgerlink.engine.runner.perform`) and store how it
        ended: succeeded, skipped, failed, dead, retrying, paused or awaiting_review (a recipe with
        ``"review": true``, :mod:`ledgerlink.engine.review`; "lost" when another worker took
        it over). Returns that status; plugins hear of it
        (:func:`~ledgerlink.engine.events.call_hook`)."""
        rt = self.runtime
        store = rt.store
        started = time.time()
        live = LiveRun(run, run.owner or self.name, store, rt.connections, rt.metrics, rt.settings.lease_seconds,
                       rt.registry.may_have_written)
        try:
            recipe = rt.registry.version(run.recipe_id, run.recipe_version)
            if recipe.review:  # nothing is sent that a person did not approve
                held = review.gate(rt, live, recipe)
                if held is not None:
                    return held[0] if held[0] == "lost" else self._ended(run, *held)
            check = (review_steps.step_check(store.review_state(run.id).review_plan, recipe)
                     if recipe.review else None)
            if not perform(live, recipe, check):
                return "lost"  # another worker took the run over; it will finish it
        except review_steps.ShownAgain as again:  # a later step is not the one reviewed: nothing of it sent
            held = review.show_again(rt, live, recipe, again)
            return held[0] if held[0] == "lost" else self._ended(run, *held)
        except LeaseLost:
            rt.metrics.add("runs_lost_lease", 1)
            return "lost"
        except NeedsReauth as exc:
            store.pause(run.id, live.worker, exc.connection, exc.message)
            rt.metrics.add("runs_paused", 1)
            call_hook(rt, "ledgerlink_connection_paused", connection=exc.connection, reason=exc.message)
            return self._ended(run, "paused", exc.message)
        except Skipped as skipped:
            if not store.skip(run.id, live.worker, skipped.skipped_as, skipped.message):
                return "lost"
            rt.metrics.add("runs_skipped", 1)
            return self._ended(run, "skipped", f"{skipped.skipped_as}: {skipped.message}")
        except Retry as retry:
            return self._reschedule(run, retry)
        except Fail as fail:
            return self._failed(run, fail.message)
        except LedgerlinkError as exc:  # recipe version missing or broken
            return self._failed(run, exc.message)
        except (*UNREADABLE, sa.exc.DataError) as exc:
            # the event's text cannot be read or encoded (a lone surrogate, nesting too deep),
            # or the database refuses a value of it (NUL, too long for its column): every
            # attempt would fail the same way, so the run fails now instead of retrying
            error = f"event {run.event_id} cannot be processed: {every_attempt(exc)}"
            log.warning("run %s: %s", run.id, error)
            return self._failed(run, error)
        rt.metrics.add("runs_succeeded", 1)
        rt.metrics.add("run_seconds", time.time() - started)
        return self._ended(run, "succeeded", None)

    def _failed(self, run: ClaimedRun, error: str) -> str:
        self.runtime.store.finish(run.id, run.owner or self.name, "failed", error=error)
        self.runtime.metrics.add("runs_failed", 1)
        return self._ended(run, "failed", error)

    def _ended(self, run: ClaimedRun, outcome: str, error: str | None) -> str:
        call_hook(self.runtime, "ledgerlink_run_ended", run=run, outcome=outcome, error=error)
        return outcome

    def side_work(self) -> int:
        """Store the ticks due (:mod:`ledgerlink.engine.ticker`), fetch due notifications and
        run due polls. Looks every ``LOOK_EVERY`` seconds (once for all the threads of a pool,
        :class:`Looks`), or at once after this process stored a notification to fetch.
        Returns how many."""
        rt = self.runtime
        now = time.monotonic()
        if now < self._looks.next and not rt.inbox.fetch_pending:
            return 0
        if not self._looks.busy.acquire(blocking=False):
            return 0  # another thread of the pool is looking
        try:
            self._looks.next = now + self.LOOK_EVERY
            return self._look()
        finally:
            self._looks.busy.release()

    def _look(self) -> int:
        rt = self.runtime
        done = ticker.tick(rt.registry, rt.inbox, rt.store, rt.clock(), rt.wake)
        if self._fetches:
            rt.inbox.fetch_pending = False
            claimed_fetches = rt.store.claim_fetches(self.name, rt.settings.lease_seconds, rt.settings.batch)
            for claimed in claimed_fetches:
                self.fetch(claimed)
                done += 1
            if len(claimed_fetches) >= rt.settings.batch:
                self._looks.next = 0.0  # a full batch: more may be due, so the pool looks again at once
        for name in rt.connections.polled():
            if self.stop.is_set():
                break
            done += self.poll(name)
        call_hook(rt, "ledgerlink_tick", now=rt.host.now())
        return done

    def fetch(self, claimed: ClaimedFetch) -> str:
        """Fetch one notification's entity and plan its runs (:func:`ledgerlink.engine.fetching.fetch`).
        Returns "done", "gone", "retrying", "paused", "failed" or "lost"; plugins hear of every
        outcome but "lost" (:func:`~ledgerlink.engine.events.call_hook`)."""
        outcome, error = fetching.fetch(self.runtime, self.name, claimed)
        if outcome != "lost":
            call_hook(self.runtime, "ledgerlink_fetch_ended", fetch=claimed, outcome=outcome, error=error)
        if outcome == "paused":
            call_hook(self.runtime, "ledgerlink_connection_paused", connection=claimed.connection, reason=error)
        return outcome

    def poll(self, connection_name: str) -> int:
        """Run connection ``connection_name``'s poll if it is due and no other process holds
        it (:func:`ledgerlink.engine.fetching.poll`). Returns 1 when this worker polled, else 0."""
        return fetching.poll(self.runtime, self.name, connection_name)

    def _reschedule(self, run: ClaimedRun, retry: Retry) -> str:
        """Store the run as retrying (due after the asked delay or a backoff), or dead when
        this was its last counted attempt."""
        settings = self.runtime.settings
        if retry.count_attempt and run.attempts >= settings.max_attempts:
            error = f"gave up after {run.attempts} attempts: {retry.message}"
            self.runtime.store.finish(run.id, run.owner or self.name, "dead", error=error)
            self.runtime.metrics.add("runs_dead", 1)
            return self._ended(run, "dead", error)
        if retry.delay is not None:
            delay = jittered(retry.delay)
        else:
            delay = backoff(run.attempts, settings.backoff_base, settings.backoff_cap)
        self.runtime.store.finish(run.id, run.owner or self.name, "retrying", error=retry.message,
                                  due_at=time.time() + delay, count_attempt=retry.count_attempt)
        self.runtime.metrics.add("runs_retried", 1)
        return self._ended(run, "retrying", retry.message)


class WorkerPool:
    """N worker threads in this process."""

    def __init__(self, runtime: Runtime, count: int) -> None:
        self.runtime = runtime
        #: one claim statement takes runs for every thread of the pool, leased to one owner
        self.claims = Claims(runtime.store, unique_name(), runtime.settings.lease_seconds,
                             runtime.settings.batch * max(1, count))
        looks = Looks()
        self.workers = [Worker(runtime, claims=self.claims, looks=looks) for _ in range(count)]
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for worker in self.workers:
            thread = threading.Thread(target=worker.run_forever, name=f"worker-{worker.name}", daemon=True)
            thread.start()
            self.threads.append(thread)
        # other processes' webhooks and replays wake these workers at once (PostgreSQL NOTIFY);
        # polling every poll_interval remains the fallback
        self._stop_listening = threading.Event()
        if self.runtime.store.engine.dialect.name == "postgresql":
            listener = threading.Thread(target=self.runtime.store.listen,
                                        args=(self.runtime.wake, self._stop_listening),
                                        name="ledgerlink-listener", daemon=True)
            listener.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the run in hand, hand back the rest, then release any lease still held."""
        for worker in self.workers:
            worker.stop.set()
        if getattr(self, "_stop_listening", None) is not None:
            self._stop_listening.set()
        self.runtime.wake()
        deadline = time.time() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.time()))
        self.runtime.store.release(self.claims.owner)
