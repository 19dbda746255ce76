"""Speed and memory benchmarks of teamtide: `python -m benchmarks --help` (or `make bench`)."""
