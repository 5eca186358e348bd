"""Data-quality gates: the basic gates, the declared checks (great-expectations), their results."""
