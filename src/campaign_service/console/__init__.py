"""The web console: static pages served at /console that use the public HTTP API."""
