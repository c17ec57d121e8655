"""Transcript formats -> episodes and passages; see `pipeline.ingest_paths`."""
