"""Fidelio: code shared by the hub and the kiosk (the wire contract) and the `fidelio` command."""

__version__ = "0.1.0"
