"""Seeded sample-data generator with planted violations and a truth file."""
