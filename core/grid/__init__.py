"""The grid model: components and their fields, substations, the network between them, and
the overview. See docs/architecture.md#layers."""
