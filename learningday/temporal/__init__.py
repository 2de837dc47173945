"""Temporal wiring: the embedded dev server, the client, the worker and the weekly Schedule."""
