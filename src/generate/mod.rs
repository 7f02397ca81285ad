//! Synthetic event streams for demos, tests and benchmarks.
