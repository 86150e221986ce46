"""Imported at start-up by a hub child process when bench.hub_profile puts this directory on PYTHONPATH.

With FIDELIO_BENCH_PROFILE_DIR set, every thread runs under its own cProfile (wall clock) and writes
`<thread name>.prof` there when it ends; the hub's threads end when it is stopped with SIGTERM.
"""

from __future__ import annotations

import os

_OUT = os.environ.get("FIDELIO_BENCH_PROFILE_DIR")

if _OUT:
    import cProfile
    import threading

    _run = threading.Thread.run

    def _profiled_run(self: threading.Thread) -> None:
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            _run(self)
        finally:
            profiler.disable()
            profiler.dump_stats(os.path.join(_OUT, f"{self.name}.prof"))

    threading.Thread.run = _profiled_run  # type: ignore[method-assign]
