"""The Fidelio hub: the shop's authoritative loyalty ledger and its MQTT service."""
