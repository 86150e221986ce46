"""The kiosk's offline-safe link to the hub: the outbox, the member cache and the MQTT link (DESIGN §6)."""

from kiosk.link.cache import MemberCache
from kiosk.link.hub_link import HubLink
from kiosk.link.outbox import Outbox, OutboxError, OutboxFull

__all__ = ["HubLink", "MemberCache", "Outbox", "OutboxError", "OutboxFull"]
