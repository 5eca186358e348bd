"""lsm engine: spec -> plan -> execute -> report."""
__version__ = "0.1.0"
