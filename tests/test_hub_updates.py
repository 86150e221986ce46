"""The hub's side of software updates: the store of signed bundles (hub/updates.py), the kiosks' HTTPS
endpoints `/updates/v1` against a real hub (broker, service, web over TLS with the shop CA, a kiosk's
real credentials from `kiosk add`), `fidelio-hub update …` as a process, and the `[updates] url` the
provisioning file now carries. Bundles are real, signed with a key made for the test."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import ssl
import stat
import subprocess
import sys
import tarfile
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fidelio.update.bundle import build_bundle
from fidelio.update.errors import UpdateError
from fidelio.update.keys import generate_key, load_private_key
from hub.app import init_hub
from hub.broker import BrokerPaths, kiosk_revoke
from hub.config import HubPaths, UpdatesConfig, load_config, write_config
from hub.updates import UpdateStore
from kiosk.provisioning import ProvisioningError, load_provisioning, parse_provisioning
from tests.support import REPO
from tests.web_harness import WebHub, running_web_hub

BIN = Path(sys.executable).parent
PY, PLATFORM = "3.11", "linux_aarch64"


# -- release bundles made for the tests -----------------------------------------------------------------
@dataclass
class Release:
    """A release key the hub trusts (`keys`), a stranger's key it does not, and bundles built with them."""

    root: Path
    keys: Path
    private: Ed25519PrivateKey
    stranger: Ed25519PrivateKey

    def bundle(self, version: str = "0.2.0", python: str = PY, platform: str = PLATFORM, *,
               key: Ed25519PrivateKey | None = None, salt: bytes = b"") -> Path:  # fmt: skip
        """A valid bundle (a wheelhouse of two small wheels), in a folder of its own."""
        tag = uuid.uuid4().hex[:8]
        wheels = self.root / f"wheels-{tag}"
        wheels.mkdir()
        (wheels / f"fidelio-{version}-py3-none-any.whl").write_bytes(b"fidelio " + version.encode() + salt)
        (wheels / "dep-1.0-py3-none-any.whl").write_bytes(b"a dependency " * 100)
        return build_bundle(wheels, self.root / f"out-{tag}", key or self.private, python=python,
                            platform=platform)  # fmt: skip


def make_release(root: Path) -> Release:
    (root / "private").mkdir(parents=True)
    keys = root / "trusted"
    keys.mkdir()
    public = generate_key(root / "private" / "release")
    shutil.copy(public, keys / public.name)
    generate_key(root / "private" / "stranger")
    return Release(root, keys, load_private_key(root / "private" / "release"),
                   load_private_key(root / "private" / "stranger"))  # fmt: skip


def repack(source: Path, out: Path, change: Callable[[str, bytes], bytes]) -> Path:
    """The same tar with members rewritten by `change(name, data)` (and nothing re-signed)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(source, "r:") as tin, tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tout:
        for info in tin.getmembers():
            fh = tin.extractfile(info)
            assert fh is not None
            data = change(info.name, fh.read())
            new = tarfile.TarInfo(info.name)
            new.size, new.mode = len(data), 0o644
            tout.addfile(new, io.BytesIO(data))
    return out


def tampered(bundle: Path, out: Path) -> Path:
    """One byte of a wheel changed: the manifest (and its signature) still says the old hash."""
    return repack(
        bundle, out, lambda n, d: d[:-1] + bytes([d[-1] ^ 1]) if n.startswith("wheels/fidelio") else d
    )


def forged(bundle: Path, out: Path) -> Path:
    """The manifest edited (a wheel swapped, its hash made to match) under the original signature."""
    evil = b"evil wheel"

    def change(name: str, data: bytes) -> bytes:
        if name == "manifest.json":
            manifest = json.loads(data)
            for wheel in manifest["wheels"]:
                if wheel["file"].startswith("dep-"):
                    wheel["sha256"], wheel["size"] = hashlib.sha256(evil).hexdigest(), len(evil)
            return json.dumps(manifest, indent=1, sort_keys=True).encode() + b"\n"
        return evil if name.startswith("wheels/dep-") else data

    return repack(bundle, out, change)


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    return make_release(tmp_path_factory.mktemp("release"))


@pytest.fixture
def store(tmp_path: Path, release: Release) -> UpdateStore:
    return UpdateStore(tmp_path / "hub", keys_dir=release.keys)


NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- the store ------------------------------------------------------------------------------------------
def test_a_good_bundle_is_kept_under_its_manifest_name_and_importing_it_again_changes_nothing(
    store: UpdateStore, release: Release
):
    bundle = release.bundle()
    done = store.import_file(bundle)
    kept = store.bundles_dir / "fidelio-0.2.0-py3.11-linux_aarch64.fidelio"
    assert not done.already and done.bundle.path == kept
    assert kept.read_bytes() == bundle.read_bytes()
    assert _mode(kept) == 0o640 and _mode(store.root) == 0o750 and _mode(store.bundles_dir) == 0o750
    assert [p.name for p in store.bundles_dir.iterdir()] == [kept.name]  # no copy left behind
    again = store.import_file(bundle)
    assert again.already and again.bundle.sha256 == done.bundle.sha256
    (row,) = store.bundles()
    assert row.ok and row.bundle.manifest.version == "0.2.0" and row.size == bundle.stat().st_size
    assert row.bundle.manifest.key_id == row.bundle.signed_by.key_id


@pytest.mark.parametrize(
    ("make", "code", "english"),
    [
        (lambda r, out: forged(r.bundle(), out), "untrusted", "not signed by a trusted key"),
        (lambda r, out: tampered(r.bundle(), out), "corrupt", "does not match"),
        (lambda r, out: r.bundle(key=r.stranger), "untrusted", "not signed by a trusted key"),
        (lambda r, out: out.write_bytes(b"not a tar at all") and out, "corrupt", "Damaged"),
    ],
    ids=["forged", "tampered", "unknown-key", "garbage"],
)
def test_a_bad_bundle_is_refused_with_its_reason_and_nothing_is_kept(
    store: UpdateStore, release: Release, tmp_path: Path, make, code: str, english: str
):
    (tmp_path / "bad").mkdir()
    bad = make(release, tmp_path / "bad" / "fidelio-0.2.0-py3.11-linux_aarch64.fidelio")
    with pytest.raises(UpdateError) as refused:
        store.import_file(bad)
    assert refused.value.code == code and english in refused.value.en and refused.value.fr
    assert store.bundles() == [] and list(store.bundles_dir.iterdir()) == []


def test_another_file_with_a_kept_name_is_refused_but_a_damaged_copy_is_replaced(
    store: UpdateStore, release: Release
):
    first = store.import_file(release.bundle()).bundle
    other = release.bundle(salt=b"rebuilt")  # same version, python, platform: same name, other bytes
    with pytest.raises(UpdateError) as refused:
        store.import_file(other)
    assert refused.value.code == "name_taken" and "does not change" in refused.value.en
    assert first.path.read_bytes() != other.read_bytes()
    assert store.bundles()[0].bundle.sha256 == first.sha256
    first.path.write_bytes(first.path.read_bytes()[:5000])  # a damaged copy (disk, hand copy…)
    (broken,) = store.bundles()
    assert not broken.ok and broken.error.code == "corrupt"
    assert not store.import_file(other).already
    assert store.bundles()[0].ok and store.bundles()[0].bundle.path.read_bytes() == other.read_bytes()


def test_the_list_reports_damaged_and_misnamed_files_without_failing(store: UpdateStore, release: Release):
    store.import_file(release.bundle("0.2.0"))
    store.import_file(release.bundle("0.10.0"))
    (store.bundles_dir / "fidelio-0.3.0-py3.11-linux_aarch64.fidelio").write_bytes(b"")
    shutil.copy(release.bundle("0.4.0"), store.bundles_dir / "renamed.fidelio")
    (store.bundles_dir / ".import-leftover.part").write_bytes(b"half")  # an import that died: not listed
    rows = store.bundles()
    assert [(r.file, r.ok) for r in rows] == [
        ("fidelio-0.10.0-py3.11-linux_aarch64.fidelio", True),  # newest first, by version not by text
        ("fidelio-0.2.0-py3.11-linux_aarch64.fidelio", True),
        ("fidelio-0.3.0-py3.11-linux_aarch64.fidelio", False),
        ("renamed.fidelio", False),
    ]
    assert rows[2].error.code == "corrupt"
    assert (
        rows[3].error.code == "misnamed" and "fidelio-0.4.0-py3.11-linux_aarch64.fidelio" in rows[3].error.en
    )
    assert store.bundle_path("renamed.fidelio") is None and store.bundle_path(rows[2].file) is None
    assert store.bundle_path(rows[0].file) == store.bundles_dir / rows[0].file


def test_no_trusted_key_means_no_import(tmp_path: Path, release: Release):
    store = UpdateStore(tmp_path / "hub", keys_dir=tmp_path / "no-keys")
    with pytest.raises(UpdateError) as refused:
        store.import_file(release.bundle())
    assert refused.value.code == "no_trusted_key"
    assert not store.bundles_dir.exists() or list(store.bundles_dir.iterdir()) == []


def test_deploy_needs_an_imported_version_and_target_for_matches_python_and_platform(
    store: UpdateStore, release: Release
):
    assert store.target_for(PY, PLATFORM) == {"version": None}
    for version in ("0.3.0", "not a version", ""):
        with pytest.raises(UpdateError) as refused:
            store.set_target(version, allow_downgrade=False, set_by="staff:ada", now=NOW)
        assert refused.value.code == "unknown_version" and "import it first" in refused.value.en
    assert not store.target_file.exists()

    kept = store.import_file(release.bundle("0.2.0")).bundle
    store.import_file(release.bundle("0.2.0", "3.13", "linux_x86_64"))
    target = store.set_target("0.2", allow_downgrade=True, set_by="staff:ada", now=NOW)  # "0.2" is "0.2.0"
    assert target == {"version": "0.2.0", "allow_downgrade": True, "set_at": "2026-12-01T09:00:00.000000Z",
                      "set_by": "staff:ada"}  # fmt: skip
    assert store.target() == target and _mode(store.target_file) == 0o640
    assert store.target_for(PY, PLATFORM) == {
        "version": "0.2.0", "file": kept.path.name, "sha256": kept.sha256, "size": kept.size,
        "allow_downgrade": True, "set_at": target["set_at"], "path": str(kept.path),
    }  # fmt: skip
    assert store.target_for("3.13", "linux_x86_64")["file"] == "fidelio-0.2.0-py3.13-linux_x86_64.fidelio"
    other = store.target_for("3.11", "linux_x86_64")
    assert other["version"] == "0.2.0" and other["file"] is None
    assert other["error"]["code"] == "no_bundle_for_platform" and "linux_x86_64" in other["error"]["fr"]
    with pytest.raises(UpdateError, match="Invalid Python"):
        store.target_for("3.11/../..", PLATFORM)
    kept.path.write_bytes(b"damaged")  # the target's bundle damaged on disk: said, not served
    assert store.target_for(PY, PLATFORM)["error"]["code"] == "corrupt"
    # deployed, so not removable, even while it does not verify (damaged, or the keys unreadable)
    blind = UpdateStore(store.data_dir, keys_dir=store.data_dir / "no-keys")
    for one in (store, blind):
        with pytest.raises(UpdateError) as refused:
            one.remove(kept.path.name)
        assert refused.value.code == "deployed" and kept.path.exists()
    assert store.clear_target() == target and store.target() is None and store.clear_target() is None
    assert store.remove(kept.path.name).file == kept.path.name and not kept.path.exists()


def test_a_kiosks_report_is_kept_as_its_latest(store: UpdateStore):
    first = {"running": "0.1.0", "result": {"state": "failed", "version": "0.2.0", "code": "x", "fr": "a",
                                            "en": "b", "at": "2026-12-01T08:00:00+00:00"}}  # fmt: skip
    store.record_report("comptoir", first, NOW)
    later = {"running": "0.2.0", "result": {"state": "installed", "version": "0.2.0", "code": None, "fr": None,
                                            "en": None, "at": "2026-12-01T09:00:00+00:00"}}  # fmt: skip
    row = store.record_report("comptoir", later, NOW)
    assert store.report("comptoir") == row == {"kiosk": "comptoir", "received_at": "2026-12-01T09:00:00.000000Z",
                                               **later}  # fmt: skip
    assert _mode(store.reports_dir / "comptoir.json") == 0o640
    with pytest.raises(UpdateError):
        store.record_report("../config", later, NOW)


def test_the_hubs_own_outcome_is_read_from_its_updaters_state_file(store: UpdateStore):
    assert (
        store.hub_state_file == store.data_dir.parent / "fidelio" / "update.json"
    )  # /data/fidelio beside /data/hub
    assert store.hub_last_update() is None
    store.hub_state_file.parent.mkdir(parents=True)
    store.hub_state_file.write_text("{torn")
    assert store.hub_last_update() is None and store.hub_state_file.read_text() == "{torn"  # left as it is
    last = {
        "state": "installed",
        "version": "0.2.0",
        "code": "installed",
        "fr": "a",
        "en": "b",
        "at": "2026-12-01T09:00:00Z",
    }
    store.hub_state_file.write_text(
        json.dumps({"previous": "0.1.0", "pending": None, "failed": {}, "last": last})
    )
    assert store.hub_last_update() == last


# -- the HTTP endpoints, against a real hub over TLS ----------------------------------------------------
@dataclass
class ApiHub:
    hub: WebHub
    release: Release
    ca: ssl.SSLContext
    kiosk: tuple[str, str]
    updates_url: str

    def client(self, auth: tuple[str, str] | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.updates_url, verify=self.ca, auth=auth, timeout=20)

    @property
    def store(self) -> UpdateStore:
        return UpdateStore(self.hub.data)


def trust_keys(data: Path, keys: Path) -> None:
    paths = HubPaths(data)
    config = load_config(paths)
    write_config(paths, config.model_copy(update={"updates": UpdatesConfig(release_keys=str(keys))}))


@pytest.fixture(scope="module")
def api(release: Release) -> Iterator[ApiHub]:
    with running_web_hub(tls=True) as hub:
        trust_keys(hub.data, release.keys)  # the store reads the config at each request
        prov = hub.harness.provision("comptoir")  # `kiosk add`: the kiosk's own broker credentials
        assert prov.updates_url is not None
        ca = ssl.create_default_context(cafile=str(BrokerPaths(hub.data).ca_crt))
        yield ApiHub(hub, release, ca, (prov.username, prov.password), prov.updates_url)


def test_the_provisioning_file_points_the_kiosk_at_the_hubs_https_endpoint(api: ApiHub):
    port = load_config(HubPaths(api.hub.data)).http.port
    assert api.updates_url == f"https://localhost:{port}/updates/v1/"
    with api.client(api.kiosk) as web:
        assert web.get("target", params={"python": PY, "platform": PLATFORM}).json() == {"version": None}


def test_only_an_active_kiosks_credentials_get_in_and_guesses_are_throttled(api: ApiHub):
    hub_user = load_config(HubPaths(api.hub.data)).mqtt
    revoked = api.hub.harness.provision("ancienne")
    with api.client(api.kiosk) as web:
        assert web.get("target", params={"python": PY, "platform": PLATFORM}).status_code == 200
    kiosk_revoke(api.hub.data, "ancienne")
    refused = [
        None,  # no credentials: the challenge (not counted as a guess)
        (api.kiosk[0], "wrong-password"),
        ("kiosk-nobody", api.kiosk[1]),
        (hub_user.username, hub_user.password),  # the hub's own broker user is no kiosk
        (revoked.username, revoked.password),
    ]
    for auth in refused:
        with api.client(auth) as web:
            answer = web.get("target", params={"python": PY, "platform": PLATFORM})
        assert answer.status_code == 401, auth
        assert answer.headers["www-authenticate"] == 'Basic realm="fidelio-updates"'
        error = answer.json()["error"]
        assert (
            error["code"] == "unauthorized"
            and error["fr"]
            and error["en"] == "Missing or invalid kiosk credentials."
        )
    with api.client() as web:  # an unreadable header is a guess too
        assert web.get("target", headers={"Authorization": "Basic !!!"}).status_code == 401
        # that was the 5th free guess; the 6th makes the address wait, even for the right credentials
        assert web.get("target", auth=("kiosk-comptoir", "guess")).status_code == 401
        slowed = web.get("target", auth=api.kiosk)
        assert slowed.status_code == 429 and int(slowed.headers["retry-after"]) >= 1
        assert slowed.json()["error"]["code"] == "throttled"
        time.sleep(float(slowed.headers["retry-after"]))
        again = web.get("target", params={"python": PY, "platform": PLATFORM}, auth=api.kiosk)
        assert again.status_code == 200  # and a success clears the address


def test_target_and_download_for_a_kiosk(api: ApiHub, tmp_path: Path):
    store = api.store
    kept = store.import_file(api.release.bundle("0.3.0")).bundle
    store.set_target("0.3.0", allow_downgrade=False, set_by="staff:ada", now=datetime.now(UTC))
    try:
        with api.client(api.kiosk) as web:
            answer = web.get("target", params={"python": PY, "platform": PLATFORM})
            assert answer.status_code == 200
            target = answer.json()
            assert target == {
                "version": "0.3.0",
                "file": kept.path.name,
                "sha256": kept.sha256,
                "size": kept.size,
                "allow_downgrade": False,
                "set_at": store.target()["set_at"],
            }  # fmt: skip  (no "path": local only)
            other = web.get("target", params={"python": PY, "platform": "linux_armv7l"}).json()
            assert other["version"] == "0.3.0" and other["file"] is None
            assert other["error"]["code"] == "no_bundle_for_platform"
            bad = web.get("target", params={"python": "x", "platform": PLATFORM})
            assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_query"

            got = web.get(f"bundles/{target['file']}")
            assert got.status_code == 200 and got.content == kept.path.read_bytes()
            assert got.headers["content-type"] == "application/octet-stream"
            assert got.headers["x-content-type-options"] == "nosniff"  # the site's headers still apply
            assert got.headers["strict-transport-security"].startswith("max-age=")
            part = web.get(f"bundles/{target['file']}", headers={"Range": "bytes=100-199"})
            assert part.status_code == 206 and part.content == kept.path.read_bytes()[100:200]  # resumable
            (store.bundles_dir / "fidelio-9.9.9-py3.11-linux_aarch64.fidelio").write_bytes(b"junk")
            for path in ("bundles/..%2F..%2Fconfig.toml", "bundles/%2E%2E", "bundles/..%2Ftarget.json",
                         "bundles/fidelio-9.9.9-py3.11-linux_aarch64.fidelio", "bundles/.lock", "bundles/",
                         "nothing-here"):  # fmt: skip
                miss = web.get(path)
                assert miss.status_code == 404, path
                assert miss.json()["error"]["code"] in ("no_bundle", "not_found"), path
            assert web.get("../config.toml").status_code in (401, 404)  # outside /updates/v1: the site's own
        with api.client() as web:
            assert web.get(f"bundles/{target['file']}").status_code == 401
    finally:
        store.clear_target()


def _report(**result: object) -> dict:
    body = {"state": "installed", "version": "0.3.0", "code": None, "fr": None, "en": None,
            "at": "2026-12-01T10:00:00+01:00"}  # fmt: skip
    return {"running": "0.3.0", "result": {**body, **result}}


def test_a_report_is_validated_and_stored_for_the_kiosk_that_sent_it(api: ApiHub):
    with api.client(api.kiosk) as web:
        sent = web.post("report", json=_report(state="rolled_back", code="health_check",
                                               fr="la borne n'a pas redémarré", en="the kiosk did not restart"))  # fmt: skip
        assert sent.status_code == 200 and sent.json()["kiosk"] == "comptoir"
        stored = api.store.report("comptoir")
        assert (
            stored["result"]["state"] == "rolled_back"
            and stored["result"]["en"] == "the kiosk did not restart"
        )
        assert stored["received_at"] == sent.json()["received_at"] and stored["received_at"].endswith("Z")
        for bad in (
            _report(state="exploded"),
            _report(at="yesterday"),
            {**_report(), "kiosk": "terrasse"},  # nobody reports for another kiosk
            {"result": _report()["result"]},
        ):
            refused = web.post("report", json=bad)
            assert refused.status_code == 422 and refused.json()["error"]["code"] == "malformed", bad
        assert web.post("report", content=b"{not json").status_code == 422
        huge = web.post("report", json=_report(fr="x" * 17_000))
        assert huge.status_code == 413 and huge.json()["error"]["code"] == "too_large"
        assert web.get("report").status_code == 405
    with api.client(("kiosk-comptoir", "wrong")) as web:
        assert web.post("report", json=_report(state="failed")).status_code == 401
    assert api.store.report("comptoir")["result"]["state"] == "rolled_back"
    assert sorted(api.store.reports()) == ["comptoir"]


def test_a_kiosk_in_use_reports_its_update_as_put_off_and_the_page_says_so(api: ApiHub):
    from hub.web.updates_page import report_words

    with api.client(api.kiosk) as web:
        sent = web.post("report", json=_report(state="deferred", code="device_busy", version="0.4.0"))
        assert sent.status_code == 200
    stored = api.store.report("comptoir")
    assert stored["result"]["state"] == "deferred"
    assert "0.4.0" in report_words(stored, "fr") and "prochaine vérification" in report_words(stored, "fr")
    assert "kiosk was in use" in report_words(stored, "en")


# -- the command line -----------------------------------------------------------------------------------
def hub_cli(data: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(BIN / "fidelio-hub"), "--data", str(data), *args], capture_output=True,
                          text=True, timeout=60, cwd=REPO)  # fmt: skip
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def cli_hub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("cli") / "hub"
    init_hub(data, "cli-shop", mqtt_host="localhost")
    return data


def test_the_cli_imports_lists_deploys_and_cancels_and_audits(
    cli_hub: Path, release: Release, tmp_path: Path
):
    bundle = release.bundle("0.5.0")
    keys = str(release.keys)
    imported = hub_cli(cli_hub, "update", "import", str(bundle), "--keys", keys)
    assert "imported: fidelio-0.5.0-py3.11-linux_aarch64.fidelio" in imported.stdout
    assert "already imported" in hub_cli(cli_hub, "update", "import", str(bundle), "--keys", keys).stdout
    forgery = forged(release.bundle("0.6.0"), tmp_path / "forged.fidelio")
    refused = hub_cli(cli_hub, "update", "import", str(forgery), "--keys", keys, check=False)
    assert refused.returncode == 1
    assert (
        "pas signée par une clé de confiance" in refused.stderr
        and "not signed by a trusted key" in refused.stderr
    )
    no_key = hub_cli(cli_hub, "update", "import", str(bundle), check=False)  # the config's default folder
    assert no_key.returncode == 1 and "No trusted release key in /etc/fidelio/release-keys" in no_key.stderr

    no_key = hub_cli(cli_hub, "update", "deploy", "0.5.0", check=False)
    assert no_key.returncode == 1 and "No trusted release key" in no_key.stderr
    trust_keys(cli_hub, release.keys)  # deploy and list check the bundles with the config's keys
    unknown = hub_cli(cli_hub, "update", "deploy", "0.6.0", check=False)
    assert (
        unknown.returncode == 1
        and "Aucun paquet importé" in unknown.stderr
        and "import it first" in unknown.stderr
    )
    assert "downgrade allowed" in hub_cli(cli_hub, "update", "deploy", "0.5.0", "--allow-downgrade").stdout
    listed = hub_cli(cli_hub, "update", "list").stdout.splitlines()
    assert listed[0].startswith("target\t0.5.0 (set ") and "downgrade allowed" in listed[0]
    assert listed[1].startswith("bundle\t0.5.0\tpy3.11\tlinux_aarch64\t")
    name = "fidelio-0.5.0-py3.11-linux_aarch64.fidelio"
    kept = hub_cli(cli_hub, "update", "remove", name, check=False)  # deployed: devices may be downloading it
    assert kept.returncode == 1 and "cancel the deployment" in kept.stderr and "annulez" in kept.stderr
    assert "cancelled" in hub_cli(cli_hub, "update", "cancel").stdout
    assert "no version deployed" in hub_cli(cli_hub, "update", "cancel").stdout
    assert hub_cli(cli_hub, "update", "list").stdout.startswith("target\t—")
    assert f"bundle removed: {name}" in hub_cli(cli_hub, "update", "remove", name).stdout
    assert not (cli_hub / "updates" / "bundles" / name).exists()
    gone = hub_cli(cli_hub, "update", "remove", name, check=False)
    assert gone.returncode == 1 and "No imported bundle named" in gone.stderr
    with sqlite3.connect(HubPaths(cli_hub).ledger) as db:
        audit = db.execute(
            "SELECT actor, action, target FROM audit_log WHERE action LIKE 'update.%' ORDER BY seq"
        )
        assert audit.fetchall() == [
            ("cli:fidelio-hub", "update.import", "fidelio-0.5.0-py3.11-linux_aarch64.fidelio"),
            ("cli:fidelio-hub", "update.deploy", "0.5.0"),
            ("cli:fidelio-hub", "update.cancel", "0.5.0"),
            ("cli:fidelio-hub", "update.remove", name),
        ]


def test_the_cli_runs_as_the_hubs_own_user(cli_hub: Path, release: Release):
    assert os.geteuid() == 0, "the tests run as root (scripts/setup.sh): the other user is 'nobody'"
    owner = cli_hub.stat()
    os.chown(cli_hub, 65534, 65534)
    try:
        wrong = hub_cli(cli_hub, "update", "import", str(release.bundle("0.7.0")), "--keys", str(release.keys),
                        check=False)  # fmt: skip
    finally:
        os.chown(cli_hub, owner.st_uid, owner.st_gid)
    assert (
        wrong.returncode == 1
        and "sudo -u fidelio" in wrong.stderr
        and "Run this command as the owner" in wrong.stderr
    )
    assert not any(p.name.startswith("fidelio-0.7.0") for p in UpdateStore(cli_hub).bundles_dir.glob("*"))


# -- the kiosk's side of the provisioning file ----------------------------------------------------------
BASE = {"shop": "s", "kiosk": "k", "mqtt": {"host": "h", "port": 8883, "username": "u", "password": "p",
                                            "tls": False}}  # fmt: skip


def test_the_kiosk_reads_an_optional_https_updates_url_strictly():
    assert parse_provisioning(BASE).updates_url is None  # files made before it still load
    url = "https://hub.local:8443/updates/v1/"
    assert parse_provisioning({**BASE, "updates": {"url": url}}).updates_url == url
    assert parse_provisioning({**BASE, "updates": {"url": "https://[fd00::1]:8443/u/"}}).updates_url
    for bad in ({"url": "http://hub.local:8443/updates/v1/"}, {"url": "https://"}, {"url": 8443},
                {"url": "https://hub.local:99999/"}, {"url": "https://hub.local/a b"}, {},
                {"url": url, "token": "x"}, "https://hub.local/"):  # fmt: skip
        with pytest.raises(ProvisioningError, match=r"\[updates\]"):
            parse_provisioning({**BASE, "updates": bad})


def test_kiosk_add_writes_the_updates_url_unless_the_web_is_plain_loopback(cli_hub: Path, tmp_path: Path):
    out = tmp_path / "k.toml"
    hub_cli(cli_hub, "kiosk", "add", "caisse", "--out", str(out))
    assert "updates" in tomllib.loads(out.read_text())  # init's default: TLS on all interfaces
    assert load_provisioning(out).updates_url == "https://localhost:8443/updates/v1/"
    paths = HubPaths(cli_hub)
    config = load_config(paths)
    write_config(paths, config.model_copy(update={"http": config.http.model_copy(
        update={"bind": "127.0.0.1", "tls": False})}))  # fmt: skip
    try:
        hub_cli(cli_hub, "kiosk", "add", "caisse-2", "--out", str(tmp_path / "k2.toml"))
    finally:
        write_config(paths, config)
    assert "updates" not in tomllib.loads((tmp_path / "k2.toml").read_text())
    assert load_provisioning(tmp_path / "k2.toml").updates_url is None
