"""Finding connectors and checking what they register.

:mod:`.manager` builds the pluggy plugin manager from the ``ledgerlink`` entry-point group
(built-in and third-party packages alike) and calls the registration hooks; :mod:`.catalog`
checks each connector, trigger, action, transform and sandbox as it arrives (names, schemas,
samples) and holds them, every problem naming the plugin that caused it.
"""
