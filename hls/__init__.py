"""Live HLS: pure playlist model, segment encoder and output writers."""
