"""Idempotency keys of write requests: a retry replays the first answer instead of running
the write again."""
