"""Dynamic max-length schedule: each step's generation budget (vLLM `max_tokens`) set from the data."""
