"""Device protocols, real drivers and simulators. Depends on nothing in kiosk/ or screens/."""
