"""Metrics, request logging and request ids."""
