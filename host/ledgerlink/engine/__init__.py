"""The engine: from a stored event to runs done exactly once.

:mod:`.runtime` wires the parts together; :mod:`.inbox` receives deliveries and plans runs;
:mod:`.worker` claims runs and records their outcome; :mod:`.runner` is the one module that
sequences a run's steps (live, dry-run and replay alike); :mod:`.retry` is the retry policy;
:mod:`.fetching` fetches ids-only notifications and polls; :mod:`.dryrun`, :mod:`.preflight`
and :mod:`.operations` are what the CLI and API ask of it (dry-run, check, replay, undo);
:mod:`.trial_events` and :mod:`.submit` are a trial sync's: the events a recipe is tried on,
and one event submitted by hand, booked once.
"""
