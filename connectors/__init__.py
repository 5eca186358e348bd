"""Read-only connectors: agency files and databases in, Arrow tables out."""
