"""Atomic writes with the ownership Mosquitto needs.

Debian's mosquitto, started as root, drops to the `mosquitto` user: what it reads (passwd, acl, certs,
its key) is root:mosquitto 0640, its persistence directory is owned by `mosquitto`, and the CA key stays
root-only 0600. When not running as root (tests, CI) or without a `mosquitto` group, files keep the
current user and only the modes apply: a broker started by that same user reads them.
"""

from __future__ import annotations

import grp
import os
import pwd
import tempfile
from pathlib import Path

MOSQUITTO_USER = "mosquitto"


def mosquitto_ids() -> tuple[int, int] | None:
    """(uid, gid) to give broker files to, or None when we cannot or need not chown."""
    if os.geteuid() != 0:
        return None
    try:
        gid = grp.getgrnam(MOSQUITTO_USER).gr_gid
    except KeyError:
        return None
    try:
        uid = pwd.getpwnam(MOSQUITTO_USER).pw_uid
    except KeyError:
        uid = -1
    return uid, gid


def set_broker_readable(path: Path, mode: int) -> None:
    """root:mosquitto with `mode` (0640 files, 0750 dirs) when running as root; else just `mode`."""
    ids = mosquitto_ids()
    if ids is not None:
        os.chown(path, 0, ids[1])
    os.chmod(path, mode)


def set_broker_owned(path: Path, mode: int = 0o750) -> None:
    """mosquitto:mosquitto (the broker writes here) when running as root; else just `mode`."""
    ids = mosquitto_ids()
    if ids is not None:
        os.chown(path, ids[0], ids[1])
    os.chmod(path, mode)


def write_atomic(path: Path, data: bytes | str, mode: int, *, broker_readable: bool = False) -> None:
    """Write to a temporary file beside `path`, fix its mode/owner, fsync, then `os.replace`: readers
    (the broker on SIGHUP) see the old file or the new one, never a partial one."""
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        if broker_readable:
            set_broker_readable(tmp, mode)
        else:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def untraversable_for_mosquitto(path: Path) -> list[Path]:
    """The directories on the way to `path` the `mosquitto` user cannot enter (empty when none, when
    that user does not exist, or when we are not root and the broker will not drop privileges)."""
    if os.geteuid() != 0:
        return []
    try:
        user = pwd.getpwnam(MOSQUITTO_USER)
    except KeyError:
        return []
    groups = {user.pw_gid} | {g.gr_gid for g in grp.getgrall() if user.pw_name in g.gr_mem}
    blocked = []
    for directory in [path, *path.parents]:
        if not directory.exists():
            continue
        st = directory.stat()
        if st.st_uid == user.pw_uid:
            ok = bool(st.st_mode & 0o100)
        elif st.st_gid in groups:
            ok = bool(st.st_mode & 0o010)
        else:
            ok = bool(st.st_mode & 0o001)
        if not ok:
            blocked.append(directory)
    return blocked
