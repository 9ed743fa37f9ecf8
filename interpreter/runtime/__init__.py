"""Frame-level execution of recipes: sources, generators, audio and graph evaluation."""
