"""A kiosk updated from its hub, end to end on real parts: the hub (broker, service, staff web over TLS
with the shop CA) holds signed, installable bundles in its store; the kiosk's updater asks
`/updates/v1/` with the credentials of the file `kiosk add` made, downloads, checks, installs beside,
switches, health-checks, rolls back a release that cannot start, and reports each outcome to the hub."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fidelio.update.bundle import this_platform, this_python
from fidelio.update.cli import main as update_main
from fidelio.update.cli import run_auto
from fidelio.update.errors import UpdateError
from fidelio.update.sources import HubSource, LocalHubSource
from hub.broker.process import free_port
from hub.updates import UpdateStore
from kiosk.provisioning import Provisioning
from tests.test_hub_updates import trust_keys
from tests.update_support import (
    BROKEN_SERVICE,
    Device,
    Releases,
)
from tests.web_harness import WebHub, running_web_hub


@pytest.fixture(scope="module")
def hub(releases: Releases) -> Iterator[WebHub]:
    with running_web_hub(tls=True) as hub:
        trust_keys(hub.data, releases.keys)
        store = UpdateStore(hub.data)
        for version, replace in (("0.1.0", None), ("0.2.0", None), ("0.3.0", BROKEN_SERVICE)):
            store.import_file(releases.bundle(version, replace))
        yield hub


def deploy(hub: WebHub, version: str | None, allow_downgrade: bool = False) -> None:
    store = UpdateStore(hub.data)
    if version is None:
        store.clear_target()
    else:
        store.set_target(version, allow_downgrade=allow_downgrade, set_by="test", now=datetime.now(UTC))


def kiosk_source(hub: WebHub, name: str = "comptoir") -> tuple[HubSource, Provisioning]:
    """What the kiosk's updater builds from the file `kiosk add` made for it (fidelio.update.cli.source_for)."""
    prov = hub.harness.provision(name)
    assert prov.updates_url is not None
    return HubSource(prov.updates_url, prov.username, prov.password, prov.ca), prov


def test_a_kiosk_takes_the_hubs_version_rolls_back_a_broken_one_and_reports(
    hub: WebHub, releases: Releases, tmp_path: Path
) -> None:
    device = Device(tmp_path, releases.keys)
    device.factory_install(
        releases.base / "bundles" / f"fidelio-0.1.0-py{this_python()}-{this_platform()}.fidelio"
    )
    source, _ = kiosk_source(hub)
    downloads = tmp_path / "downloads"
    store = UpdateStore(hub.data)

    deploy(hub, None)
    assert run_auto(device.updater, source, device.keys, downloads) is None  # nothing asked for

    deploy(hub, "0.2.0")
    result = run_auto(device.updater, source, device.keys, downloads)
    assert result is not None and result["state"] == "installed", result
    assert device.running() == "0.2.0"
    # the download is the hub's file, byte for byte, and the only one kept
    (downloaded,) = downloads.iterdir()
    assert downloaded.read_bytes() == (store.bundles_dir / downloaded.name).read_bytes()
    report = store.report("comptoir")
    assert report is not None and report["running"] == "0.2.0" and report["result"]["state"] == "installed"

    # the next hourly run: nothing to do, said to the hub too
    again = run_auto(device.updater, source, device.keys, downloads)
    assert again is not None and again["state"] == "up_to_date"

    deploy(hub, "0.3.0")
    broken = run_auto(device.updater, source, device.keys, downloads)
    assert broken is not None and broken["state"] == "rolled_back"
    assert device.running() == "0.2.0"
    report = store.report("comptoir")
    assert report is not None and report["running"] == "0.2.0"
    assert report["result"]["state"] == "rolled_back" and "0.2.0" in report["result"]["fr"]

    # going back is only done when the deploy says so
    deploy(hub, "0.1.0")
    refused = run_auto(device.updater, source, device.keys, downloads)
    assert refused is not None and refused["state"] == "refused" and refused["code"] == "downgrade"
    deploy(hub, "0.1.0", allow_downgrade=True)
    back = run_auto(device.updater, source, device.keys, downloads)
    assert back is not None and back["state"] == "installed" and device.running() == "0.1.0"


def test_a_kiosk_refuses_a_file_changed_on_the_hub_and_a_hub_it_cannot_trust(
    hub: WebHub, releases: Releases, tmp_path: Path
) -> None:
    device = Device(tmp_path, releases.keys)
    device.factory_install(
        releases.base / "bundles" / f"fidelio-0.1.0-py{this_python()}-{this_platform()}.fidelio"
    )
    source, prov = kiosk_source(hub, "entree")
    deploy(hub, "0.2.0")
    store = UpdateStore(hub.data)
    target = source.target(this_python(), this_platform())
    assert target.file and target.sha256
    # the file on the hub changes after the hub announced it (a disk fault, a swap): the kiosk's own
    # hash check refuses it and nothing is switched
    path = store.bundles_dir / target.file
    original = path.read_bytes()
    try:
        path.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
        with pytest.raises(UpdateError) as changed:
            source.fetch(target, tmp_path / "downloads")
        assert changed.value.code == "corrupt"
        assert not any((tmp_path / "downloads").iterdir())
    finally:
        path.write_bytes(original)
    assert device.running() == "0.1.0"
    # a server without the shop CA's certificate is not the hub: TLS refuses it before any credential goes
    wrong = HubSource(prov.updates_url or "", prov.username, prov.password, ca_pem=None)
    with pytest.raises(UpdateError) as untrusted:
        wrong.target(this_python(), this_platform())
    assert untrusted.value.code == "hub_unreachable" and "CERTIFICATE" in untrusted.value.en.upper()
    # wrong credentials (a revoked or copied-badly file): refused with the hub's words
    bad = HubSource(prov.updates_url or "", prov.username, "not-the-password", prov.ca)
    with pytest.raises(UpdateError) as refused:
        bad.target(this_python(), this_platform())
    assert refused.value.code == "hub_unreachable" and "401" in refused.value.en


def test_the_hub_device_updates_itself_from_its_own_store(
    hub: WebHub, releases: Releases, tmp_path: Path
) -> None:
    """The hub role's source: the store the staff page and `fidelio-hub update` fill, read locally."""
    device = Device(tmp_path, releases.keys)
    device.factory_install(
        releases.base / "bundles" / f"fidelio-0.1.0-py{this_python()}-{this_platform()}.fidelio"
    )
    deploy(hub, "0.2.0")
    result = run_auto(device.updater, LocalHubSource(hub.data), device.keys, tmp_path / "unused")
    assert result is not None and result["state"] == "installed" and device.running() == "0.2.0"
    assert not (tmp_path / "unused").exists()  # nothing copied: the hub's own file is installed
    # the hub's pre-update backup ran before the switch, the service restart after it
    assert device.services.calls[:2] == [("oneshot", "backup.service"), ("restart", "app.service")]
    deploy(hub, None)
    assert run_auto(device.updater, LocalHubSource(hub.data), device.keys, tmp_path / "unused") is None


def test_the_hourly_run_says_little_when_the_hub_is_away_and_plainly_when_the_file_is_bad(
    hub: WebHub, releases: Releases, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    device = Device(tmp_path, releases.keys)
    device.factory_install(
        releases.base / "bundles" / f"fidelio-0.1.0-py{this_python()}-{this_platform()}.fidelio"
    )
    data = tmp_path / "card-data"
    (data / "fidelio").mkdir(parents=True)
    (data / "fidelio" / "role").write_text("kiosk\n")
    (data / "kiosk").mkdir()
    hub.harness.provision("reserve")
    text = (hub.harness.root / "reserve.toml").read_text()
    closed = free_port()
    (data / "kiosk" / "fidelio-kiosk.toml").write_text(
        re.sub(r'url = "https://localhost:\d+/', f'url = "https://localhost:{closed}/', text)
    )
    args = [
        "--root",
        str(device.dir.root),
        "--state",
        str(data / "fidelio/update.json"),
        "--keys",
        str(releases.keys),
    ]
    # the hub off: exit 75 (the unit's SuccessExitStatus), one line, nothing changed
    assert update_main([*args, "auto", "--data", str(data)]) == 75
    err = capsys.readouterr().err
    assert "Hub injoignable" in err and "Hub unreachable" in err and "Traceback" not in err
    assert device.running() == "0.1.0"
    # the kiosk's file damaged: exit 1 with what is wrong, no traceback
    (data / "kiosk" / "fidelio-kiosk.toml").write_text("[mqtt\n")
    assert update_main([*args, "auto", "--data", str(data)]) == 1
    err = capsys.readouterr().err
    assert "Fichier de la borne illisible" in err and "unreadable" in err and "Traceback" not in err
