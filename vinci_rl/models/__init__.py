"""Model helpers: building tiny random-weight VLMs for tests/demo, and loading real ones by path or hub id."""
