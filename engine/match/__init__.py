"""Entity matching: comparators, batch features, Fellegi–Sunter parameters, the match steps."""
