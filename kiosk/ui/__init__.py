"""The kiosk's touchscreen (Kivy): screens that show a `kiosk.session.model.View` and send `Intent`s.

Importing this package prepares Kivy's environment before any of its modules imports Kivy (Kivy reads
these variables once, at its own import): no ~/.kivy (KIVY_HOME in the temp dir, or the caller's), no
command-line parsing (the kiosk has its own), no log file, Kivy's records go through Python's logging,
and Kivy's *interrupt* clock: a Clock trigger fired from another thread (a card tap, a hub reply, through
the presenter) wakes the UI loop at once instead of waiting for the next frame, so the loop may run at a
low frame rate while idle (kiosk.ui.pace).
`setdefault`: an operator can still override any of them from the environment.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("KIVY_HOME", str(Path(tempfile.gettempdir()) / f"fidelio-kivy-{os.getuid()}"))
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
os.environ.setdefault("KIVY_CLOCK", "interrupt")
