"""`python -m sandbox serve|truth`: the sandbox as a program of its own (see `sandbox.cli`)."""

from sandbox.cli import run

if __name__ == "__main__":
    run()
