"""One update on one device: decide, install beside, switch, restart, watch, keep or roll back.

The running updater is the *old* release's code, and the old release stays on disk until the new one
has proved itself, so a new release that cannot start cannot stop its own rollback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fidelio.update.bundle import VerifiedBundle, this_platform, this_python
from fidelio.update.errors import UpdateError
from fidelio.update.policy import decide
from fidelio.update.releases import ReleaseDir
from fidelio.update.services import Services
from fidelio.update.state import StateFile, UpdateState, now_iso

log = logging.getLogger("fidelio.update")


#: failures of the device rather than of the release (a full card, an interrupted install): tried again
#: at the next runs, up to this many times in all; a release that fails its self-test or its health
#: check is not tried again
RETRIED_CODES = frozenset({"install_failed", "disk", "before_switch_failed"})
MAX_ATTEMPTS = 3


def blocked_versions(state: UpdateState) -> set[str]:
    return {
        version
        for version, failure in state.failed.items()
        if failure.get("code") not in RETRIED_CODES or int(failure.get("attempts", 1)) >= MAX_ATTEMPTS
    }


@dataclass(frozen=True)
class RoleUnits:
    """What a role restarts after a switch, and what must succeed before it (the hub's backup)."""

    restart: Sequence[str]
    before_switch: Sequence[str] = ()


ROLES = {
    "hub": RoleUnits(restart=("fidelio-hub.service",), before_switch=("fidelio-backup.service",)),
    "kiosk": RoleUnits(restart=("fidelio-kiosk.service",)),
}


@dataclass
class Updater:
    releases: ReleaseDir
    services: Services
    units: RoleUnits
    state_file: StateFile
    settle_s: float = 60.0
    #: how long a switch waits for the role's units to be free (no customer at the kiosk) before it is
    #: put off to the next run; the new release stays installed beside, so the next run is quick
    idle_wait_s: float = 300.0
    idle_poll_s: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    python: str = field(default_factory=this_python)
    platform: str = field(default_factory=this_platform)

    def _result(self, state: UpdateState, kind: str, version: str | None, why: Any) -> dict[str, Any]:
        words = (
            why.as_dict() if isinstance(why, UpdateError) else {"code": why.code, "fr": why.fr, "en": why.en}
        )
        result = {"state": kind, "version": version, **words, "at": now_iso()}
        state.last = result
        self.state_file.save(state)
        log.info("update %s", kind, extra={"update": result})
        return result

    def _healthy(self) -> UpdateError | None:
        for unit in self.units.restart:
            try:
                self.services.restart(unit)
            except UpdateError as exc:
                return exc
            if not self.services.settled(unit, self.settle_s):
                return UpdateError(
                    "service_unstable",
                    f"Le service {unit} s'est arrêté ou a redémarré après la mise à jour",
                    f"The service {unit} stopped or restarted after the update",
                )
        return None

    def _busy(self) -> str | None:
        """None once every unit to restart is free; else what one of them is busy with, after waiting."""
        until = self.clock() + self.idle_wait_s
        while True:
            doing = next((text for unit in self.units.restart if (text := self.services.busy(unit))), None)
            if doing is None or self.clock() >= until:
                return doing
            self.sleep(self.idle_poll_s)

    def apply(
        self,
        bundle: VerifiedBundle,
        *,
        allow_downgrade: bool = False,
        force: bool = False,
        even_if_busy: bool = False,
    ) -> dict[str, Any]:
        state = self.state_file.load()
        self.recover(state)
        current = self.releases.current()
        version = bundle.manifest.version
        decision = decide(
            bundle.manifest,
            current=current.version,
            python=self.python,
            platform=self.platform,
            allow_downgrade=allow_downgrade,
            failed_before=blocked_versions(state),
            force=force,
            current_ledger_schema=current.ledger_schema,
        )
        if not decision.install:
            kind = "up_to_date" if decision.code == "up_to_date" else "refused"
            return self._result(state, kind, version, decision)
        try:
            self.releases.install(bundle)
            doing = None if even_if_busy else self._busy()
            if doing is not None:
                return self._result(
                    state,
                    "deferred",
                    version,
                    UpdateError(
                        "device_busy",
                        f"Appareil en cours d'utilisation ({doing}) : version {version} prête, "
                        "elle sera mise en service à la prochaine vérification",
                        f"Device in use ({doing}): version {version} is ready and will be switched to "
                        "at the next check",
                    ),
                )
            for unit in self.units.before_switch:
                try:
                    self.services.run_oneshot(unit)
                except UpdateError as exc:
                    raise UpdateError(
                        "before_switch_failed",
                        f"{exc.fr} : la mise à jour attend (rien n'est changé)",
                        f"{exc.en}: the update waits (nothing was changed)",
                    ) from exc
        except UpdateError as exc:
            attempts = int(state.failed.get(version, {}).get("attempts", 0)) + 1
            state.failed[version] = {**exc.as_dict(), "at": now_iso(), "attempts": attempts}
            return self._result(state, "failed", version, exc)
        state.pending = {"from": current.version, "to": version}
        self.state_file.save(state)
        self.releases.switch(version)
        return self._confirm_or_roll_back(state)

    def _confirm_or_roll_back(self, state: UpdateState) -> dict[str, Any]:
        assert state.pending is not None
        old, new = state.pending["from"], state.pending["to"]
        problem = self._healthy()
        if problem is None:
            state.previous, state.pending = old, None
            state.failed.pop(new, None)
            self.releases.prune({new, old})
            return self._result(state, "installed", new, _words("installed", old, new))
        log.warning("update %s failed, rolling back to %s: %s", new, old, problem)
        # recorded before switching back: a power cut now still knows not to try `new` again
        state.failed[new] = {**problem.as_dict(), "at": now_iso()}
        self.state_file.save(state)
        self.releases.switch(old)
        state.pending = None
        self.state_file.save(state)
        again = self._healthy()
        self.releases.prune({old} | ({state.previous} if state.previous else set()))
        if again is not None:
            return self._result(
                state,
                "failed",
                new,
                UpdateError(
                    "rollback_failed",
                    f"{problem.fr} ; retour à {old} fait, mais {again.fr}",
                    f"{problem.en}; back on {old}, but {again.en}",
                ),
            )
        return self._result(
            state,
            "rolled_back",
            new,
            UpdateError(
                problem.code,
                f"{problem.fr} : retour automatique à la version {old}",
                f"{problem.en}: rolled back to version {old}",
            ),
        )

    def recover(self, state: UpdateState) -> dict[str, Any] | None:
        """Finish an update a power cut interrupted between the switch and its health check."""
        if state.pending is None:
            return None
        old, new = state.pending["from"], state.pending["to"]
        if self.releases.current().version != new:
            state.pending = None  # the switch never happened: nothing to undo
            self.state_file.save(state)
            return None
        log.warning("update %s → %s was interrupted: checking it now", old, new)
        return self._confirm_or_roll_back(state)

    def rollback(self) -> dict[str, Any]:
        """Back to the release before this one, on request (`fidelio-update rollback`)."""
        state = self.state_file.load()
        current = self.releases.current()
        previous = state.previous
        if previous is None or self.releases.release(previous) is None:
            raise UpdateError(
                "no_previous",
                "Aucune version précédente n'est installée sur cet appareil",
                "No previous release is installed on this device",
            )
        state.pending = {"from": current.version, "to": previous}
        self.state_file.save(state)
        self.releases.switch(previous)
        result = self._confirm_or_roll_back(state)
        if result["state"] == "installed":
            state.failed.setdefault(current.version, {"code": "rolled_back_by_hand", "at": now_iso()})
            self.state_file.save(state)
        return result


@dataclass(frozen=True)
class _Words:
    code: str
    fr: str
    en: str


def _words(code: str, old: str, new: str) -> _Words:
    return _Words(code, f"Version {new} installée (avant : {old})", f"Version {new} installed (was {old})")
