"""Built-in demo data: the US job-board views in FORMAT.md (see README.md here)."""
