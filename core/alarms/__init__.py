"""The alarm engine: limits (defaults from the grid model, a manager's overrides), one vectorised
evaluation of measurements against them, the ISA-18.2 lifecycle as a table, and the services
that list, acknowledge and shelve alarms. See docs/design.md#limits-and-alarms."""
