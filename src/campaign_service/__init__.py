"""campaign-service: outbound voice campaigns over a Vapi-compatible REST API."""

__version__ = "0.1.0"
