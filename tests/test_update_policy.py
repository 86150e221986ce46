"""The updater's pure rules (fidelio/update/policy.py) and the manifest's strictness."""

from __future__ import annotations

import json

import pytest

from fidelio.update.bundle import Manifest, WheelEntry
from fidelio.update.errors import UpdateError
from fidelio.update.policy import decide


def manifest(version: str, *, schema: int | None = 3, platform: str = "linux_aarch64") -> Manifest:
    wheel = WheelEntry(f"fidelio-{version}-py3-none-any.whl", "0" * 64, 1)
    return Manifest(version, "3.11", platform, "2026-12-01T00:00:00Z", "k", (wheel,), ledger_schema=schema)


def on_device(m: Manifest, current: str = "1.2.0", **kw) -> str:
    kw.setdefault("current_ledger_schema", 3)
    return decide(m, current=current, python="3.11", platform="linux_aarch64", **kw).code


@pytest.mark.parametrize(
    ("candidate", "kw", "code"),
    [
        (manifest("1.3.0"), {}, "newer"),
        (manifest("1.2.0"), {}, "up_to_date"),
        (manifest("1.10.0"), {}, "newer"),  # versions compare as versions, not as text
        (manifest("1.2.0.post1"), {}, "newer"),
        (manifest("1.1.0"), {}, "downgrade"),
        (manifest("1.1.0"), {"allow_downgrade": True}, "downgrade_allowed"),
        (manifest("1.3.0", platform="linux_x86_64"), {}, "wrong_platform"),
        (manifest("1.3.0"), {"failed_before": {"1.3.0"}}, "failed_before"),
        (manifest("1.3.0"), {"failed_before": {"1.3.0"}, "force": True}, "newer"),
        # an older hub cannot read a newer ledger: never back across a schema change, asked or not
        (manifest("1.1.0", schema=2), {"allow_downgrade": True}, "ledger_newer"),
        (manifest("1.1.0", schema=3), {"allow_downgrade": True}, "downgrade_allowed"),
        (manifest("1.1.0", schema=None), {"allow_downgrade": True}, "downgrade_allowed"),
    ],
)
def test_what_a_device_does_with_a_bundle(candidate: Manifest, kw: dict, code: str) -> None:
    assert on_device(candidate, **kw) == code


def test_every_refusal_says_why_in_both_languages() -> None:
    decision = decide(
        manifest("1.1.0", schema=2), current="1.2.0", python="3.11", platform="linux_aarch64",
        allow_downgrade=True, current_ledger_schema=3,
    )  # fmt: skip
    assert not decision.install and "schéma 2 < 3" in decision.fr and "schema 2 < 3" in decision.en


@pytest.mark.parametrize(
    "change",
    [
        {"platform": "../../etc"},
        {"python": "3.11/x"},
        {"version": "not a version"},
        {"ledger_schema": "3"},
        {"format": 2},
        {"wheels": [{"file": "../evil.whl", "sha256": "0" * 64, "size": 1}]},
        {"wheels": []},
    ],
)
def test_a_manifest_with_anything_odd_is_refused(change: dict) -> None:
    data = json.loads(manifest("1.3.0").to_json())
    data.update(change)
    with pytest.raises(UpdateError) as refused:
        Manifest.from_json(json.dumps(data).encode())
    assert refused.value.code == "corrupt"


def test_a_manifest_round_trips() -> None:
    m = manifest("1.3.0", schema=4)
    assert Manifest.from_json(m.to_json()) == m


def test_systemd_failures_are_told_in_the_units_own_terms(tmp_path, monkeypatch) -> None:
    """`Systemd` against a stand-in `systemctl` (systemd is not PID 1 here; the qemu boot runs the real one):
    a failed restart is said as the unit's result and exit status, not as "see journalctl"; a unit whose
    restart count moves while it is watched is not settled."""
    from fidelio.update.services import Systemd

    calls = tmp_path / "calls"
    fake = tmp_path / "systemctl"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >>{calls}\n'
        'case "$1" in\n'
        '  restart) echo "Job for hub.service failed. See journalctl -xeu" >&2; exit 1 ;;\n'
        "  start) exit 0 ;;\n"
        f"  show) n=$(wc -l <{calls}); echo ActiveState=${{ACTIVE:-active}}; echo SubState=${{SUB:-running}};"
        " echo NRestarts=$n; echo MainPID=42;"
        ' echo Result=exit-code; echo ExecMainStatus=3; echo "StatusText=$STATUS" ;;\n'
        "esac\n"
    )
    fake.chmod(0o755)
    services = Systemd(systemctl=str(fake), poll_s=0.01)
    with pytest.raises(UpdateError) as failed:
        services.restart("hub.service")
    assert failed.value.code == "service_failed" and "exit-code, exit status 3" in failed.value.en
    assert "journalctl" not in failed.value.en
    services.run_oneshot("backup.service")  # exits 0: no error
    assert not services.settled("hub.service", 1.0)  # NRestarts grows with every call of the stand-in
    assert calls.read_text().splitlines()[0] == "restart hub.service"
    # what the kiosk app says it is doing (kiosk/watchdog.py): only "busy: …" holds a restart back
    for said, busy in (
        ("busy: welcome screen", "busy: welcome screen"),
        ("idle: attract screen", None),
        ("", None),
    ):
        monkeypatch.setenv("STATUS", said)
        assert services.busy("fidelio-kiosk.service") == busy
    # a kiosk app that died on a customer's screen keeps that STATUS= in systemd: it holds nothing back
    monkeypatch.setenv("STATUS", "busy: welcome screen")
    for active, sub in (("failed", "failed"), ("activating", "auto-restart"), ("inactive", "dead")):
        monkeypatch.setenv("ACTIVE", active)
        monkeypatch.setenv("SUB", sub)
        assert services.busy("fidelio-kiosk.service") is None
