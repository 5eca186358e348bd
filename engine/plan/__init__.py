"""What runs: typed steps with SQL ASTs, their explanation and fingerprints. Plain data, no I/O."""
