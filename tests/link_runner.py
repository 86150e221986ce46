"""A kiosk's hub link in a process of its own, for the tests that kill -9 the kiosk.

    python -m tests.link_runner --prov FILE --outbox FILE --cache FILE [--resend-after S]

Commands on stdin, one JSON object a line:
  {"submit": <request, as on the wire>}   store it in the outbox and publish it
  {"devices": ["ok", "paper_out"]}         reader and printer state for the retained status
  {"wait_acked": 10}                       answer {"acked": true|false} once the broker has every request
  {"stop": true}                           stop the link cleanly and exit
What happens on stdout, one JSON object a line: {"ready": true}, {"submitted": id}, {"state": [online,
queue]}, {"reply": id, "ok": bool}, {"acked": bool}, {"stopped": counters}.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from pathlib import Path
from typing import Any

from kiosk.link import HubLink, MemberCache, Outbox
from kiosk.link.outbox import request_from_payload
from kiosk.provisioning import load_provisioning

_out = threading.Lock()


def say(obj: dict[str, Any]) -> None:
    with _out:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tests.link_runner")
    p.add_argument("--prov", type=Path, required=True)
    p.add_argument("--outbox", type=Path, required=True)
    p.add_argument("--cache", type=Path, required=True)
    p.add_argument("--resend-after", type=float, default=20.0)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    outbox, cache = Outbox(args.outbox), MemberCache(args.cache)
    link = HubLink(
        load_provisioning(args.prov),
        outbox,
        cache,
        on_reply=lambda rid, reply: say({"reply": rid, "ok": reply.get("ok")}),
        on_state=lambda online, queue: say({"state": [online, queue]}),
        on_program=lambda _summary: None,
        resend_after=args.resend_after,
    )
    link.start()
    say({"ready": True})
    for line in sys.stdin:
        command = json.loads(line)
        if "submit" in command:
            request = request_from_payload(json.dumps(command["submit"]))
            link.submit(request)
            say({"submitted": request.id})
        elif "devices" in command:
            link.set_devices(*command["devices"])
        elif "wait_acked" in command:
            deadline = time.monotonic() + float(command["wait_acked"])
            while link.unacknowledged() and time.monotonic() < deadline:
                time.sleep(0.02)
            say({"acked": link.unacknowledged() == 0})
        elif "stop" in command:
            break
    link.stop()
    say({"stopped": dict(link.counters)})
    outbox.close()
    cache.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
