"""The kiosk's touchscreen (Kivy): screens that show a `kiosk.session.model.View` and send `Intent`s.

Importing this package prepares Kivy's environment before any of its modules imports Kivy (Kivy reads
these variables once, at its own import): no ~/.kivy (KIVY_HOME in the temp dir, or the caller's), no
command-line parsing (the kiosk has its own), no log file, Kivy's records go through Python's logging.
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
