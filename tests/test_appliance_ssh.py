"""Maintenance access over SSH (fidelio/appliance/ssh.py and first boot): real keys made by ssh-keygen,
read back; what first boot writes for sshd (the drop-in, the keys in /etc, this device's own host keys
made by the real `ssh-keygen -A`), and an empty file turning SSH off. The real sshd logging a key in
(and refusing root and passwords) is checked inside the booted image (tests/test_appliance_boot.py)."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from fidelio.appliance.firstboot import run_firstboot
from fidelio.appliance.layout import Layout
from fidelio.appliance.ssh import ADMIN_USER, SSHD_DROPIN, SshKeyError, parse_authorized_keys
from tests.support import REPO
from tests.test_appliance_firstboot import RecordingActions


def keygen(tmp_path: Path, kind: str, bits: int | None = None, comment: str = "marie@atelier") -> str:
    path = tmp_path / f"key-{kind}-{bits}"
    argv = ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", comment, "-f", str(path)]
    subprocess.run([*argv, *(["-b", str(bits)] if bits else [])], check=True)
    return Path(f"{path}.pub").read_text()


def fingerprint(line: str, tmp_path: Path) -> str:
    pub = tmp_path / "one.pub"
    pub.write_text(line)
    return subprocess.run(
        ["ssh-keygen", "-lf", str(pub)], capture_output=True, text=True, check=True
    ).stdout.split()[1]


@pytest.fixture(scope="module")
def real_keys(tmp_path_factory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("keys")
    return {
        "ed25519": keygen(tmp, "ed25519"),
        "ecdsa": keygen(tmp, "ecdsa", 384, comment="jo support"),
        "rsa3072": keygen(tmp, "rsa", 3072),
        "rsa2048": keygen(tmp, "rsa", 2048),
    }


@pytest.fixture
def layout(tmp_path) -> Layout:
    boot, root = tmp_path / "boot", tmp_path / "root"
    boot.mkdir()
    (root / "etc").mkdir(parents=True)
    (root / "etc/hosts").write_text("127.0.0.1\tlocalhost\n")
    return Layout(boot=boot, root=root, examples=REPO / "examples")


def test_real_keys_are_read_with_their_fingerprints(real_keys, tmp_path):
    text = f"# the maintainers\n\n{real_keys['ed25519']}{real_keys['ecdsa']}{real_keys['rsa3072']}"
    keys = parse_authorized_keys(text)
    assert [k.kind for k in keys] == ["ssh-ed25519", "ecdsa-sha2-nistp384", "ssh-rsa"]
    assert keys[1].comment == "jo support"
    for key, line in zip(keys, (real_keys["ed25519"], real_keys["ecdsa"], real_keys["rsa3072"]), strict=True):
        assert key.line() == line.strip()
        assert key.fingerprint() == fingerprint(line, tmp_path)  # what `ssh-keygen -l` says of it
    assert parse_authorized_keys("\n# nobody\n") == []


def test_weak_odd_or_forged_keys_are_refused_with_their_line(real_keys):
    ed = real_keys["ed25519"].split()
    relabelled = f"ssh-rsa {ed[1]}"  # an Ed25519 key claiming to be RSA
    truncated_blob = base64.b64encode(base64.b64decode(ed[1])[:20]).decode()
    cases = {
        real_keys["rsa2048"]: "RSA key of 2048 bits",
        f'command="/bin/sh" {real_keys["ed25519"]}': "not an accepted key type",
        f"ssh-dss {ed[1]}": "not an accepted key type",
        relabelled: "not a ssh-rsa key",
        f"ssh-ed25519 {truncated_blob}": "cut short",
        "ssh-ed25519 not*base64": "unreadable or refused key",
        "ssh-ed25519": "no key after the type",
    }
    for line, why in cases.items():
        with pytest.raises(SshKeyError) as refused:
            parse_authorized_keys(f"{real_keys['ed25519']}{line}\n")
        assert "ligne 2" in str(refused.value) and "line 2" in str(refused.value), line
        assert why in str(refused.value), (line, str(refused.value))
    with pytest.raises(SshKeyError, match="at most 20"):
        parse_authorized_keys(real_keys["ed25519"] * 21)


def test_first_boot_opens_ssh_for_keys_only_with_host_keys_of_its_own(layout, real_keys, tmp_path):
    (layout.boot / "authorized_keys").write_text(real_keys["ed25519"])
    actions = RecordingActions()

    status = run_firstboot(layout, actions)

    assert status.ok and status.title_en == "Settings applied.", status
    assert list(layout.boot.iterdir()) == []
    keys = layout.authorized_keys(ADMIN_USER)
    assert keys.read_text() == real_keys["ed25519"] and keys.stat().st_mode & 0o777 == 0o644
    assert layout.sshd_dropin.read_text() == SSHD_DROPIN
    for setting in ("PasswordAuthentication no", "PermitRootLogin no", f"AllowUsers {ADMIN_USER}",
                    "AuthorizedKeysFile /etc/ssh/authorized_keys.d/%u"):  # fmt: skip
        assert f"\n{setting}\n" in SSHD_DROPIN
    # the real ssh-keygen -A made this device's host keys, none copied from the image
    host_keys = sorted(p.name for p in (layout.root / "etc/ssh").glob("ssh_host_*_key"))
    assert "ssh_host_ed25519_key" in host_keys and len(host_keys) >= 2
    assert actions.of("enable") == [["ssh.service"]] and actions.calls[-1] == ("start", ["ssh.service"])
    expected = fingerprint(real_keys["ed25519"], tmp_path)
    assert any(expected in step and "keys only" in step for step in status.steps), status.steps

    (layout.boot / "authorized_keys").write_text("")  # an empty file: SSH off again
    closed = run_firstboot(layout, RecordingActions())
    assert closed.ok and any("SSH access closed" in s for s in closed.steps)
    assert not keys.exists() and not layout.sshd_dropin.exists()


def test_a_bad_key_file_is_refused_and_ssh_stays_off(layout, real_keys):
    (layout.boot / "authorized_keys").write_text(real_keys["rsa2048"])
    actions = RecordingActions()

    status = run_firstboot(layout, actions)

    assert not status.ok and any("2048 bits" in d for d in status.details), status.details
    assert actions.of("enable") == [] and not layout.sshd_dropin.exists()
    assert not layout.authorized_keys(ADMIN_USER).exists()
    assert (layout.rejected / "authorized_keys").exists() and list(layout.boot.iterdir()) == []
