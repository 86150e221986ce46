#!/bin/bash
# shellcheck disable=SC2016  # the bash -c snippets expand inside the VM, on purpose
# Inside the verification VM only (image-build/verify.sh installs it; the real image never has it):
# check what first boot did and that the role's services run, print "FIDELIO-CHECK ok|FAIL <what>"
# lines on the serial console, then power the VM off.
set -uo pipefail
PY=/opt/fidelio/venv/bin/python
ok() { echo "FIDELIO-CHECK ok $*"; }
fail() { echo "FIDELIO-CHECK FAIL $*"; }
check() { # check WHAT COMMAND...
  local what="$1"; shift
  if "$@" >/dev/null 2>&1; then ok "$what"; else fail "$what"; fi
}
wait_for() { # wait_for SECONDS COMMAND...
  local until=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$until" ] || return 1
    sleep 2
  done
}
active() { [ "$(systemctl is-active "$1")" = active ]; }

# Everything below goes to the console (for whoever watches) and to a file on the boot partition, which
# verify.sh reads once the VM is off: kernel messages (an RCU stall on a loaded host) can land in the
# middle of a console line, never in the file.
REPORT=/boot/firmware/fidelio-check.log
: >"$REPORT"
exec > >(tee -a "$REPORT") 2>&1
report_writer=$!

echo "FIDELIO-CHECK start $(date -u +%FT%TZ) uptime $(cut -d' ' -f1 /proc/uptime)s"
role="$(cat /data/fidelio/role 2>/dev/null)"
check "role $role" test -n "$role"
check "status ok" "$PY" -c 'import json, sys; sys.exit(not json.load(open("/data/fidelio/status.json"))["ok"])'
sed 's/^/FIDELIO-CHECK status: /' /data/fidelio/status.json
check "boot partition clean" bash -c '! ls /boot/firmware/fidelio-kiosk.toml /boot/firmware/fidelio-hub.toml /boot/firmware/wifi.toml /boot/firmware/authorized_keys 2>/dev/null | grep -q .'
check "data partition" bash -c '[ "$(findmnt -n -o SOURCE /data)" = "$(blkid -L fidelio-data)" ]'
# the rest of the disk, after the root partition (verify.sh leaves 2 GiB free; the root takes half)
check "data partition 1 GiB" bash -c '[ "$(lsblk -b -n -o SIZE "$(blkid -L fidelio-data)")" -gt 1000000000 ]'
lsblk -o NAME,SIZE,LABEL,MOUNTPOINT | sed 's/^/FIDELIO-CHECK disk: /'

if [ "$role" = hub ]; then
  check "wifi keyfile 0600" bash -c '[ "$(stat -c %a:%U /etc/NetworkManager/system-connections/fidelio-wifi.nmconnection)" = 600:root ]'
  for unit in fidelio-mosquitto fidelio-hub; do
    if wait_for 600 active "$unit"; then ok "$unit active"; else fail "$unit active"; systemctl status "$unit" --no-pager | sed 's/^/FIDELIO-CHECK   /'; fi
  done
  check "backup timer" active fidelio-backup.timer
  # a kiosk through the TLS listener, with the file the hub's first boot made for it
  cp /boot/firmware/fidelio-kiosks/comptoir.toml /tmp/comptoir.toml
  kiosk_request() { # kiosk_request TYPE: one request as the kiosk "comptoir", exit 0 on an ok reply
    "$PY" - "$1" <<'PY'
import dataclasses, sys
from kiosk.provisioning import load_provisioning
from kiosk.simple_client import SimpleHubClient
prov = dataclasses.replace(load_provisioning("/tmp/comptoir.toml"), host="localhost")
client = SimpleHubClient(prov)
client.connect()
body = {"consents": {"email": False, "sms": False}} if sys.argv[1] == "enrol" else {}
reply = client.request(sys.argv[1], "pcsc:04A1B2C3", body)
print("FIDELIO-CHECK reply", sys.argv[1], reply.get("ok"), reply.get("member", {}).get("code"))
raise SystemExit(0 if reply["ok"] else 1)
PY
  }
  if kiosk_request enrol; then ok "kiosk answered"; else fail "kiosk answered"; fi
  # the watchdog: a hub that stops answering (SIGSTOP) is killed and started again by systemd
  pid="$(systemctl show -p MainPID --value fidelio-hub)"
  restarts="$(systemctl show -p NRestarts --value fidelio-hub)"
  kill -STOP "$pid"
  echo "FIDELIO-CHECK stopped fidelio-hub pid $pid (restarts so far: $restarts)"
  if wait_for 240 bash -c "[ \"\$(systemctl show -p NRestarts --value fidelio-hub)\" -gt $restarts ] && [ \"\$(systemctl show -p MainPID --value fidelio-hub)\" != $pid ] && [ \"\$(systemctl is-active fidelio-hub)\" = active ]"; then
    ok "watchdog restarted fidelio-hub"
  else
    fail "watchdog restarted fidelio-hub"
  fi
  journalctl -u fidelio-hub --no-pager -o cat | grep -i -m3 watchdog | sed 's/^/FIDELIO-CHECK journal: /'

  # updates (fidelio/update): a bundle imported on the hub and deployed; fidelio-update.service (what the
  # hourly timer runs) installs it beside the factory release, switches, restarts the hub and keeps it;
  # then a release whose hub cannot start is installed the same way and rolled back by itself
  running() { /opt/fidelio/venv/bin/python -I -c 'import fidelio; print(fidelio.__version__)'; }
  last_update() { "$PY" -c 'import json; print(json.load(open("/data/fidelio/update.json"))["last"]["state"])'; }
  hubcli() { runuser -u fidelio -- /opt/fidelio/venv/bin/fidelio-hub --data /data/hub "$@"; }
  read -r _ good_version good_file < <(grep '^good ' /var/lib/fidelio-verify/bundles.txt)
  read -r _ broken_version broken_file < <(grep '^broken ' /var/lib/fidelio-verify/bundles.txt)
  factory="$(running)"
  echo "FIDELIO-CHECK factory release $factory; update to $good_version, then $broken_version (broken)"
  hubcli update import "/var/lib/fidelio-verify/$good_file" | sed 's/^/FIDELIO-CHECK   /'
  hubcli update deploy "$good_version" | sed 's/^/FIDELIO-CHECK   /'
  # what a kiosk asks the hub (its own credentials, TLS with the shop CA): the deployed version
  if "$PY" - "$good_version" <<'PY'; then ok "kiosk update endpoint"; else fail "kiosk update endpoint"; fi
import sys
from fidelio.update.bundle import this_python
from fidelio.update.sources import HubSource
from kiosk.provisioning import load_provisioning
prov = load_provisioning("/tmp/comptoir.toml")
url = (prov.updates_url or "").replace(f"//{prov.host}:", "//localhost:")
target = HubSource(url, prov.username, prov.password, prov.ca).target(this_python(), "linux_aarch64")
print("FIDELIO-CHECK target", url, target.version, target.file, target.problem)
raise SystemExit(0 if target.version == sys.argv[1] and target.file else 1)
PY
  started=$SECONDS
  systemctl start fidelio-update.service
  echo "FIDELIO-CHECK update run took $((SECONDS - started))s"
  check "update installed" test "$(running) $(readlink /opt/fidelio/venv)" = "$good_version releases/$good_version"
  echo "FIDELIO-CHECK update state: $(last_update), running $(running)"
  check "update hub active" active fidelio-hub
  if kiosk_request tap; then ok "kiosk answered after update"; else fail "kiosk answered after update"; fi
  hubcli update import "/var/lib/fidelio-verify/$broken_file" | sed 's/^/FIDELIO-CHECK   /'
  hubcli update deploy "$broken_version" | sed 's/^/FIDELIO-CHECK   /'
  started=$SECONDS
  systemctl start fidelio-update.service  # fails: the update was rolled back
  echo "FIDELIO-CHECK broken update run took $((SECONDS - started))s"
  echo "FIDELIO-CHECK update state: $(last_update), running $(running)"
  check "update rolled back" test "$(running) $(last_update) $(find /opt/fidelio/releases -mindepth 1 -maxdepth 1 -printf '%f ' | tr ' ' '\n' | sort | tr '\n' ' ')" = "$good_version rolled_back $factory $good_version "
  if wait_for 120 active fidelio-hub; then ok "update hub active after rollback"; else fail "update hub active after rollback"; fi
  if kiosk_request tap; then ok "kiosk answered after rollback"; else fail "kiosk answered after rollback"; fi
  journalctl -u fidelio-update --no-pager -o cat | grep -v '^$' | tail -6 | sed 's/^/FIDELIO-CHECK journal: /'
  check "hub ledger sound" runuser -u fidelio -- /opt/fidelio/venv/bin/fidelio-hub --data /data/hub check
elif [ "$role" = kiosk ]; then
  check "kiosk credentials 0600 kiosk" bash -c '[ "$(stat -c %a:%U /data/kiosk/fidelio-kiosk.toml)" = 600:kiosk ]'
  if wait_for 300 active fidelio-kiosk; then ok "fidelio-kiosk active"; else fail "fidelio-kiosk active"; fi
  # the launcher found the device set up and became the kiosk app (exec: the same main pid)
  kiosk_app() {
    local cmdline
    cmdline="$(tr '\0' ' ' <"/proc/$(systemctl show -p MainPID --value fidelio-kiosk)/cmdline")"
    [[ "$cmdline" == *'fidelio-kiosk --config /data/kiosk/fidelio-kiosk.toml'* ]]
  }
  if wait_for 300 kiosk_app; then ok "kiosk app running"; else fail "kiosk app running"; fi
  sleep 30
  check "kiosk app stays up" bash -c '[ "$(systemctl show -p NRestarts --value fidelio-kiosk)" = 0 ] && systemctl is-active -q fidelio-kiosk'
  systemctl status fidelio-kiosk --no-pager 2>&1 | head -12 | sed 's/^/FIDELIO-CHECK   /'
  journalctl -u fidelio-kiosk --no-pager -o cat | tail -5 | sed 's/^/FIDELIO-CHECK journal: /'
fi
check "update timer" systemctl is-enabled -q fidelio-update.timer
if [ "$role" = hub ]; then
  # the maintainer's key from the boot partition (authorized_keys): it logs in, nothing else does
  maint() { # maint USER COMMAND...: one SSH login with the maintainer's key
    local user="$1"; shift
    ssh -i /var/lib/fidelio-verify/maint-key -o BatchMode=yes -o StrictHostKeyChecking=accept-new \
      -o UserKnownHostsFile=/tmp/known_hosts -o ConnectTimeout=60 "$user@localhost" "$@"
  }
  export -f maint
  wait_for 180 active ssh.service
  check "ssh key login" bash -c '[ "$(maint fidelio-admin id -un)" = fidelio-admin ]'
  check "ssh keys only" bash -c 'sshd -T | grep -qx "passwordauthentication no" && sshd -T | grep -qx "kbdinteractiveauthentication no"'
  check "ssh root refused" bash -c '! maint root true'
  check "ssh maintainer sudo" bash -c '[ "$(maint fidelio-admin sudo -n id -u)" = 0 ]'
  for key in /etc/ssh/ssh_host_*_key.pub; do echo "FIDELIO-CHECK host key: $(ssh-keygen -lf "$key")"; done
else
  check "ssh off" bash -c '! systemctl is-enabled -q ssh.service && ! systemctl is-active -q ssh.service'
fi
for unit in $(systemctl list-units --failed --plain --no-legend | awk '{print $1}'); do
  echo "FIDELIO-CHECK failed unit: $unit"
done
echo "FIDELIO-CHECK end uptime $(cut -d' ' -f1 /proc/uptime)s"
exec >/dev/null 2>&1
wait "$report_writer"  # tee has written the whole report
sync
systemctl poweroff --no-block
