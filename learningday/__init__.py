"""Learning Day: the application shell (settings, database, CLI, web, worker wiring)."""
