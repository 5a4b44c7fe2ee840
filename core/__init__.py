"""The ground floor every process stands on: settings, database, object store, events, Temporal.

Activities, the API, the workers and the ingress import these; ``core`` itself imports only
``schema`` and third-party libraries, so nothing here can pull a process or the CLI back in
(`tests/test_import_direction.py` holds that line).
"""
