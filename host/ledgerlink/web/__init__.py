"""The HTTP room: the app ``ledgerlink serve`` runs, and the server it runs on.

- :mod:`~ledgerlink.web.app` builds the app: the host's views, then the routes plugins add;
- :mod:`~ledgerlink.web.connections`, :mod:`~ledgerlink.web.recipes`, :mod:`~ledgerlink.web.runs`
  and :mod:`~ledgerlink.web.system` hold the views, one module per resource;
- :mod:`~ledgerlink.web.routes` declares a view with its description and mounts blueprints;
  :mod:`~ledgerlink.web.openapi` builds ``/openapi.json`` from those declarations;
- :mod:`~ledgerlink.web.responses` is the one JSON answer and error shape,
  :mod:`~ledgerlink.web.auth` the tokens, :mod:`~ledgerlink.web.metrics` the Prometheus metrics;
- :mod:`~ledgerlink.web.servers` serves any WSGI app on waitress, bounded per client.
"""
