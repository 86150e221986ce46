"""Card readers and receipt printers behind small Protocols (built by the kiosk hardware issue)."""
