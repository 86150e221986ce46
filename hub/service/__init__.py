"""The hub's MQTT service: one writer applies kiosk requests to the ledger and answers them."""

from hub.service.service import HubService

__all__ = ["HubService"]
