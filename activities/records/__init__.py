"""Database side effects: everything a workflow records as it happens."""
