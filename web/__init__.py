"""Web UI: server-rendered pages, templates and the HLS player."""
