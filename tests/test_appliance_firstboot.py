"""First boot against a temporary boot partition and root: the real files it writes (kiosk credentials,
NetworkManager keyfile, /etc/hosts, status for the screen and the console), the boot partition emptied,
a real `fidelio-hub init` for a hub (whose ledger `fidelio-hub check` then passes), and what it asks of
the system (hostname, units) recorded behind the same interface as the real one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from fidelio.appliance.actions import SystemActions
from fidelio.appliance.firstboot import hosts_with, kiosk_hostname, main, run_firstboot
from fidelio.appliance.layout import HUB_UNITS, KIOSK_UNITS, Layout, only_in
from fidelio.appliance.status import read_status
from hub.app import init_hub
from hub.broker import kiosk_add
from hub.broker.process import free_port
from kiosk.config import load_kiosk_config
from tests.support import REPO

KIOSK_IDS = (4242, 4243)
HUB_IDS = (4343, 4344)
WIFI = 'ssid = "Boulangerie Martin"\npsk = "croissant-2026"\ncountry = "fr"\n'


class RecordingActions(SystemActions):
    """The system's side recorded; `fidelio-hub init` is the real one (SystemActions.hub_cli)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def set_hostname(self, name: str) -> None:
        self.calls.append(("hostname", name))

    def enable(self, units: list[str]) -> None:
        self.calls.append(("enable", units))

    def disable(self, units: list[str]) -> None:
        self.calls.append(("disable", units))

    def start(self, units: list[str]) -> None:
        self.calls.append(("start", units))

    def ids(self, user: str) -> tuple[int, int]:
        return {"kiosk": KIOSK_IDS, "fidelio": HUB_IDS}[user]

    def of(self, kind: str) -> list[object]:
        return [arg for k, arg in self.calls if k == kind]


@pytest.fixture(scope="module")
def provisioning_files(tmp_path_factory) -> dict[str, str]:
    """Real files from `fidelio-hub kiosk add` on a real hub."""
    root = tmp_path_factory.mktemp("shop")
    root.chmod(0o755)
    init_hub(root / "hub", "boulangerie-martin", mqtt_host="hub.local", mqtt_port=free_port(),
             local_port=free_port())  # fmt: skip
    files = {}
    for kiosk in ("comptoir", "terrasse"):
        kiosk_add(root / "hub", kiosk, root / f"{kiosk}.toml")
        files[kiosk] = (root / f"{kiosk}.toml").read_text()
    return files


@pytest.fixture
def layout(tmp_path) -> Layout:
    boot, root = tmp_path / "boot", tmp_path / "root"
    boot.mkdir()
    (root / "etc").mkdir(parents=True)
    (root / "etc/hosts").write_text(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n127.0.1.1\traspberrypi\n"
    )
    return Layout(boot=boot, root=root, examples=REPO / "examples")


def test_a_kiosk_file_and_wifi_provision_a_kiosk_and_leave_the_boot_partition_empty(
    layout, provisioning_files
):
    kiosk_text = provisioning_files["comptoir"] + '\n[display]\nlang = "en"\nfullscreen = true\n'
    (layout.boot / "fidelio-kiosk.toml").write_text(kiosk_text)
    (layout.boot / "wifi.toml").write_text(WIFI)
    (layout.boot / "config.txt").write_text("# the Pi's own file stays\n")
    actions = RecordingActions()

    status = run_firstboot(layout, actions)

    assert status.ok and status.role == "kiosk", status
    assert sorted(p.name for p in layout.boot.iterdir()) == ["config.txt"]
    moved = layout.kiosk_config
    assert moved.read_text() == kiosk_text
    assert (moved.stat().st_mode & 0o777, moved.stat().st_uid, moved.stat().st_gid) == (0o600, *KIOSK_IDS)
    for sub in ("", "state", "kivy"):
        assert (layout.kiosk_data / sub).stat().st_uid == KIOSK_IDS[0]
    config = load_kiosk_config(moved)  # the kiosk's own loader reads what first boot put there
    assert config.provisioning.kiosk == "comptoir" and config.display.lang == "en"

    keyfile = layout.wifi_keyfile
    assert keyfile.stat().st_mode & 0o777 == 0o600
    text = keyfile.read_text()
    assert (
        "ssid=Boulangerie Martin\n" in text and "psk=croissant-2026\n" in text and "key-mgmt=wpa-psk" in text
    )
    assert "ieee80211_regdom=FR" in layout.wifi_country.read_text()

    hosts = (layout.root / "etc/hosts").read_text()
    assert "127.0.1.1\tboulangerie-martin-comptoir\n" in hosts and "raspberrypi" not in hosts
    assert "::1\tlocalhost ip6-localhost" in hosts
    assert actions.of("hostname") == ["boulangerie-martin-comptoir"]
    assert actions.of("enable") == [list(KIOSK_UNITS)]
    assert actions.of("disable") == [only_in(HUB_UNITS, KIOSK_UNITS)]
    assert "fidelio-update.timer" in KIOSK_UNITS and "fidelio-update.timer" in HUB_UNITS
    assert actions.calls[-1] == ("start", list(KIOSK_UNITS))  # after the status is written

    shown = read_status(layout.status)
    assert shown == status
    assert "comptoir" in shown.title_fr and "comptoir" in shown.title_en
    assert any("fidelio-kiosk.toml removed from the boot partition" in s for s in shown.steps)
    assert any("wifi.toml retiré de la partition de démarrage" in s for s in shown.steps)
    assert "password" not in layout.status.read_text()
    assert layout.status.stat().st_mode & 0o777 == 0o644
    assert layout.role.read_text() == "kiosk\n"
    issue = layout.issue.read_text()
    assert "Fidelio — OK" in issue and "configurée" in issue and "set up" in issue


def test_a_bad_kiosk_file_makes_a_kiosk_that_shows_what_is_wrong(layout, provisioning_files):
    bad = provisioning_files["comptoir"] + '\n[display]\ncolour = "blue"\n'
    (layout.boot / "fidelio-kiosk.toml").write_text(bad)
    actions = RecordingActions()

    status = run_firstboot(layout, actions)

    assert not status.ok and status.role == "kiosk"
    assert any("[display.colour] clé inconnue / unknown key" in d for d in status.details), status.details
    assert "Recopiez" in status.title_fr and "Copy the file" in status.title_en
    assert list(layout.boot.iterdir()) == []  # the password is off the FAT partition all the same
    kept = layout.rejected / "fidelio-kiosk.toml"
    assert kept.read_text() == bad and kept.stat().st_mode & 0o777 == 0o600
    assert not layout.kiosk_config.exists()
    assert actions.of("hostname") == []
    # the kiosk service still starts: its screen shows this status instead of staying blank
    assert actions.of("enable") == [list(KIOSK_UNITS)] and actions.of("start") == [list(KIOSK_UNITS)]
    assert read_status(layout.status) == status
    assert "ERREUR / ERROR" in layout.issue.read_text()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("shop = [", "TOML invalide / invalid TOML"),
        ('shop = "s"\nkiosk = "k"\n', "section [mqtt] manquante / missing [mqtt] section"),
        (None, "not a text file"),
    ],
)
def test_unreadable_kiosk_files_are_explained(layout, text, expected):
    target = layout.boot / "fidelio-kiosk.toml"
    if text is None:
        target.write_bytes(b"\xff\xfe\x00garbage")
    else:
        target.write_text(text)
    status = run_firstboot(layout, RecordingActions())
    assert not status.ok and status.role == "kiosk"
    assert any(expected in d for d in status.details), status.details
    assert not target.exists()


def test_a_hub_file_runs_init_and_gives_the_hub_its_files(layout):
    (layout.boot / "fidelio-hub.toml").write_text('shop = "boulangerie-martin"\nprogram = "bakery"\n')
    actions = RecordingActions()

    status = run_firstboot(layout, actions)

    assert status.ok and status.role == "hub", status
    assert list(layout.boot.iterdir()) == []
    data = layout.hub_data
    settings = json.loads((data / "mosquitto/broker.json").read_text())
    assert settings["mqtt_host"] == "boulangerie-martin-hub.local"
    assert (data / "program.toml").read_text() == (REPO / "examples/bakery.toml").read_text()
    for name in ("config.toml", "ledger.sqlite", "program.toml", "web"):
        assert (data / name).stat().st_uid == HUB_IDS[0], name
    assert (data / "config.toml").stat().st_mode & 0o777 == 0o600
    assert (data / "mosquitto").stat().st_uid == 0  # the broker's files stay root:mosquitto
    assert actions.of("hostname") == ["boulangerie-martin-hub"]
    assert actions.of("enable") == [list(HUB_UNITS)] and actions.of("start") == [list(HUB_UNITS)]
    assert "boulangerie-martin-hub.local" in status.title_en
    check = subprocess.run([sys.executable, "-m", "hub.cli", "--data", str(data), "check"], cwd=REPO)
    assert check.returncode == 0

    # a second hub file on an SD card that already holds a hub changes nothing and says so
    (layout.boot / "fidelio-hub.toml").write_text('shop = "autre-boutique"\n')
    again = run_firstboot(layout, RecordingActions())
    assert not again.ok and any("already holds the hub of 'boulangerie-martin'" in d for d in again.details)
    assert json.loads((data / "mosquitto/broker.json").read_text())["shop"] == "boulangerie-martin"


def test_the_kiosks_a_hub_file_lists_get_their_files_on_the_boot_partition(layout):
    (layout.boot / "fidelio-hub.toml").write_text('shop = "boutique"\nkiosks = ["comptoir", "terrasse"]\n')
    status = run_firstboot(layout, RecordingActions())
    assert status.ok, status
    made = sorted(p.name for p in (layout.boot / "fidelio-kiosks").iterdir())
    assert made == ["comptoir.toml", "terrasse.toml"]
    assert not list((layout.state / "kiosks").iterdir())  # no second copy left on /data
    # each is a kiosk's file: a kiosk's first boot takes it as it is
    kiosk_card = Layout(boot=layout.boot / "kiosk-card", root=layout.root / "kiosk", examples=layout.examples)
    kiosk_card.boot.mkdir()
    (kiosk_card.root / "etc").mkdir(parents=True)
    shutil.copy(layout.boot / "fidelio-kiosks/terrasse.toml", kiosk_card.boot / "fidelio-kiosk.toml")
    kiosk_status = run_firstboot(kiosk_card, RecordingActions())
    assert kiosk_status.ok and "terrasse" in kiosk_status.title_en, kiosk_status
    listed = subprocess.run(
        [sys.executable, "-m", "hub.cli", "--data", str(layout.hub_data), "kiosk", "list"],
        cwd=REPO, capture_output=True, text=True,
    )  # fmt: skip
    assert "comptoir" in listed.stdout and "terrasse" in listed.stdout


def test_a_hub_file_on_an_existing_hub_adds_the_new_kiosks_and_the_admin(layout):
    (layout.boot / "fidelio-hub.toml").write_text('shop = "boutique"\nkiosks = ["comptoir"]\n')
    assert run_firstboot(layout, RecordingActions()).ok
    (layout.boot / "fidelio-kiosks/comptoir.toml").unlink()  # the installer took it
    later = 'shop = "boutique"\nkiosks = ["comptoir", "vitrine"]\n[admin]\nname = "marie"\npassword = "pain-au-chocolat"\n'
    for _ in range(2):  # the same file twice: the second time there is nothing left to do
        (layout.boot / "fidelio-hub.toml").write_text(later)
        actions = RecordingActions()
        status = run_firstboot(layout, actions)
        assert status.ok, status
        assert actions.of("hostname") == []  # no second init
    assert sorted(p.name for p in (layout.boot / "fidelio-kiosks").iterdir()) == ["vitrine.toml"]
    assert not (layout.boot / "fidelio-hub.toml").exists()
    users = subprocess.run(
        [sys.executable, "-m", "hub.cli", "--data", str(layout.hub_data), "user", "list"],
        cwd=REPO, capture_output=True, text=True,
    )  # fmt: skip
    assert users.stdout.startswith("marie\tadmin")
    assert (layout.hub_data / "ledger.sqlite").stat().st_uid == HUB_IDS[0]  # still the hub's after user add


@pytest.mark.parametrize(
    ("extra", "word"),
    [
        ('kiosks = ["Comptoir"]', "kiosks"),
        ('kiosks = ["a", "a"]', "kiosks"),
        ('kiosks = "comptoir"', "kiosks"),
        ('[admin]\nname = "marie"\npassword = "court"', "10 characters"),
        ('[admin]\nname = "Marie Curie"\npassword = "assez-long-mot"', "[admin] name"),
        ('[admin]\nname = "marie"', "[admin] holds"),
    ],
)
def test_bad_hub_files_are_refused_before_init(layout, extra, word):
    (layout.boot / "fidelio-hub.toml").write_text(f'shop = "boutique"\n{extra}\n')
    status = run_firstboot(layout, RecordingActions())
    assert not status.ok and any(word in d for d in status.details), status.details
    assert not layout.hub_data.exists()


def test_a_program_file_beside_the_hub_file_is_used(layout):
    shutil.copy(REPO / "examples/grocery.toml", layout.boot / "programme.toml")
    (layout.boot / "fidelio-hub.toml").write_text(
        'shop = "epicerie"\nprogram = "programme.toml"\nmqtt_host = "epicerie.example"\nhostname = "caisse"\n'
    )
    status = run_firstboot(layout, RecordingActions())
    assert status.ok, status
    assert (layout.hub_data / "program.toml").read_text() == (REPO / "examples/grocery.toml").read_text()
    assert "127.0.1.1\tcaisse\n" in (layout.root / "etc/hosts").read_text()


def test_an_unknown_program_is_refused_before_init(layout):
    (layout.boot / "fidelio-hub.toml").write_text('shop = "epicerie"\nprogram = "pharmacy"\n')
    actions = RecordingActions()
    status = run_firstboot(layout, actions)
    assert not status.ok and status.role == "hub"
    assert any("bakery, fashion-boutique, grocery" in d for d in status.details), status.details
    assert not layout.hub_data.exists() and actions.of("enable") == []


def test_bad_wifi_is_refused_and_no_keyfile_is_written(layout):
    (layout.boot / "wifi.toml").write_text('ssid = "Shop"\npsk = "short"\ncountry = "FR"\n')
    status = run_firstboot(layout, RecordingActions())
    assert not status.ok
    assert any("8 à 63 caractères" in d and "8 to 63 characters" in d for d in status.details)
    assert not layout.wifi_keyfile.exists() and list(layout.boot.iterdir()) == []
    assert (layout.rejected / "wifi.toml").stat().st_mode & 0o777 == 0o600


def test_wifi_alone_keeps_the_role(layout):
    layout.state.mkdir(parents=True)
    layout.role.write_text("hub\n")
    (layout.boot / "wifi.toml").write_text('ssid = "Nouveau"\ncountry = "BE"\n')
    actions = RecordingActions()
    status = run_firstboot(layout, actions)
    assert status.ok and status.role == "hub"
    assert "[wifi-security]" not in layout.wifi_keyfile.read_text()  # an open network
    assert actions.of("enable") == [] and actions.of("hostname") == []


def test_a_kiosk_file_and_a_hub_file_together_are_refused(layout, provisioning_files):
    (layout.boot / "fidelio-kiosk.toml").write_text(provisioning_files["terrasse"])
    (layout.boot / "fidelio-hub.toml").write_text('shop = "x"\n')
    actions = RecordingActions()
    status = run_firstboot(layout, actions)
    assert not status.ok and "either a kiosk or a hub" in status.details[0]
    assert list(layout.boot.iterdir()) == [] and actions.of("enable") == []


def test_the_command_line_reports_on_stdout_and_by_exit_code(layout, capsys):
    (layout.boot / "wifi.toml").write_text("ssid = 3\n")
    code = main(["--boot", str(layout.boot), "--root", str(layout.root), "--examples", str(layout.examples)])
    out = capsys.readouterr().out
    assert code == 1
    assert "fidelio-firstboot: La configuration a échoué" in out and "Setting up failed" in out


def test_names():
    assert kiosk_hostname("a" * 40, "b" * 30) == ("a" * 40 + "-" + "b" * 30)[:63]
    assert kiosk_hostname("a" * 62, "b") == "a" * 62
    assert hosts_with("127.0.0.1 localhost\n", "caisse") == "127.0.0.1 localhost\n127.0.1.1\tcaisse\n"
    assert hosts_with("", "caisse") == "127.0.1.1\tcaisse\n"
