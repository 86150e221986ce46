"""Whether a device installs a bundle: pure, so every rule is tested without a device.

- the bundle must be built for this device's Python and platform (compiled wheels);
- a newer version is installed; the same version is nothing to do;
- an older one only when the shop asked to go back (`allow_downgrade`, set on the hub's deploy);
- never back to a version whose hub cannot read the ledger the running one wrote (schema);
- a version that already failed on this device is not tried again until it is asked for explicitly
  (`force`), so a bad release is not reinstalled and rolled back every hour.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from packaging.version import Version

from fidelio.update.bundle import Manifest


@dataclass(frozen=True)
class Decision:
    install: bool
    code: str
    fr: str
    en: str


def decide(
    manifest: Manifest,
    *,
    current: str,
    python: str,
    platform: str,
    allow_downgrade: bool = False,
    failed_before: Collection[str] = (),
    force: bool = False,
    current_ledger_schema: int | None = None,
) -> Decision:
    new, now = Version(manifest.version), Version(current)
    if (manifest.python, manifest.platform) != (python, platform):
        return Decision(
            False,
            "wrong_platform",
            f"Ce fichier est pour Python {manifest.python} / {manifest.platform}, "
            f"cet appareil a Python {python} / {platform}",
            f"This file is for Python {manifest.python} / {manifest.platform}, "
            f"this device has Python {python} / {platform}",
        )
    if new == now:
        return Decision(False, "up_to_date", f"Déjà en version {current}", f"Already at version {current}")
    if manifest.version in failed_before and not force:
        return Decision(
            False,
            "failed_before",
            f"La version {manifest.version} a déjà échoué sur cet appareil ; elle n'est pas réessayée",
            f"Version {manifest.version} already failed on this device; it is not tried again",
        )
    if (
        new < now
        and manifest.ledger_schema is not None
        and current_ledger_schema is not None
        and manifest.ledger_schema < current_ledger_schema
    ):
        return Decision(
            False,
            "ledger_newer",
            f"La version {manifest.version} ne sait pas lire le registre de la version {current} "
            f"(schéma {manifest.ledger_schema} < {current_ledger_schema}) : retour arrière impossible",
            f"Version {manifest.version} cannot read the ledger of version {current} "
            f"(schema {manifest.ledger_schema} < {current_ledger_schema}): it cannot be gone back to",
        )
    if new < now and not allow_downgrade:
        return Decision(
            False,
            "downgrade",
            f"La version {manifest.version} est plus ancienne que {current} : retour arrière non demandé",
            f"Version {manifest.version} is older than {current}: going back was not asked for",
        )
    if new < now:
        return Decision(
            True,
            "downgrade_allowed",
            f"Retour à la version {manifest.version} (demandé)",
            f"Going back to version {manifest.version} (asked for)",
        )
    return Decision(
        True,
        "newer",
        f"Mise à jour {current} → {manifest.version}",
        f"Update {current} → {manifest.version}",
    )
