"""The payloads that cross between the workflows, the activities and the web: workflow inputs,
updates, signals and query answers, activity arguments and results.

Plain frozen dataclasses and a few pure helpers (workflow ids, idempotency keys), free of I/O:
nothing here imports SQLAlchemy, FastAPI, Slack, Google or the workflows, activities and web
that use it (pyproject.toml [tool.importlinter] keeps it so). The workflow sandbox passes it
through, so each type is one object per process. A class's fields are its JSON on the wire and
in every recorded history: rename or reorder one only with the histories in mind.
"""
