"""Property back-end adapters: API calls turned into kiosk verbs (``PropertyBackend``)."""
