"""The compiler: model specs in, typed plans out (sandboxed expressions, bounds, comparators, matches, rules)."""
