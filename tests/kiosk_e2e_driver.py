"""The real kiosk app for the end-to-end test: `python tests/kiosk_e2e_driver.py CONFIG REPORT SHOT`.

Builds the kiosk exactly as `fidelio-kiosk --config CONFIG` does (kiosk.app.build_kiosk, then
kiosk.run.run_screen) under the X display in $DISPLAY. Writes REPORT (JSON) `{"ready": true}` once the
app runs; then, when a welcome screen with the hub's answer is drawn, the texts on it and a screenshot
SHOT, and quits. The test taps the card on pcscd through vpcd in between.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import kiosk.ui  # noqa: E402,F401  (Kivy's environment, before Kivy is imported)
from kiosk.app import build_kiosk  # noqa: E402
from kiosk.config import load_kiosk_config  # noqa: E402
from kiosk.run import run_screen  # noqa: E402
from kiosk.session.model import Screen, View  # noqa: E402


def main(config_path: str, report_path: str, shot_path: str) -> int:
    report = Path(report_path)
    runtime = build_kiosk(load_kiosk_config(Path(config_path)))

    def ready(app: Any) -> None:
        from kivy.clock import Clock
        from kivy.uix.label import Label

        show = runtime.presenter.render

        def finish(view: View) -> None:
            texts = [w.text for w in app.root.current_screen.walk() if isinstance(w, Label) and w.text]
            app.screenshot(Path(shot_path))
            report.write_text(
                json.dumps(
                    {"ready": True, "texts": texts, "balances": view.member.balances}, ensure_ascii=False
                )
            )
            app.stop()

        def render(view: View) -> None:
            show(view)
            if view.screen == Screen.WELCOME and view.member is not None and not view.member.stale:
                Clock.schedule_once(lambda _dt: finish(view), 0.2)  # the frame is drawn first

        runtime.presenter.render = render
        report.write_text(json.dumps({"ready": True}))

    return run_screen(runtime, on_ready=ready)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
