"""One function per CLI command: read inputs, call pure functions, write outputs."""
