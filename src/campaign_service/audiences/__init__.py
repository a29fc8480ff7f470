"""Audiences as users hold them: CSV files in, a do-not-call list, results out (extensions)."""
