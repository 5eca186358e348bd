"""Runs of the engine: one run end to end, run directories and the lock, clue history, diffs, the model cache."""
