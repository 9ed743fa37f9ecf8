"""Process wiring: settings, CLI, services, arq worker and the app factory."""
