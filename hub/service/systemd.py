"""systemd's notify protocol for the hub service; the implementation is shared with the kiosk."""

from fidelio.sdnotify import Notifier

__all__ = ["Notifier"]
