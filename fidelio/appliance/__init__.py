"""The appliance: first-boot provisioning of an SD-card image (hub or kiosk) and the kiosk's launcher.

Pure decisions (what the boot partition's files mean, what to write where) are apart from the I/O
(`actions.Actions`: hostname, systemd units, `fidelio-hub init`), and every path comes from a `Layout`,
so the tests run first boot against a temporary boot partition and root.
"""
