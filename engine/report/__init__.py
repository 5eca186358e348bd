"""Reports: clue files, manifest, the HTML report a prosecutor opens without a server."""
