"""Temporal workflows: one module per workflow; decisions come from policies/, side effects from activities/."""
