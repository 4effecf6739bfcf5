"""Who may do what: users and their passwords, sign-in and its lockout, API tokens.
See docs/architecture.md#layers."""
