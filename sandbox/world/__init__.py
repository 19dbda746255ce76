"""The synthetic organisation: its records (`model`), how they are generated from a seed (`generate`), and the ground truth planted in them (`truth`)."""
