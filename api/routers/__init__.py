"""One router per resource: auth, components, measurements, reports, imports."""
