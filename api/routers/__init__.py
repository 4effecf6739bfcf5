"""One router per resource: auth, components, measurements, reports, imports.
See docs/reference.md#the-http-api."""
