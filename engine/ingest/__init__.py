"""Agency files to staged Parquet: read, normalise (normalize/), quarantine, de-duplicate, account."""
