"""The kiosk as a systemd appliance: the service manager's notification protocol and the
secrets it passes as credentials (systemd/, docs/appliance.md)."""
