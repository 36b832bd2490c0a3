#!/bin/sh
# fuel-forge first-boot script (text/x-shellscript, runs once per instance in
# cloud-final): hands the "provisioned" call-back to a separate unit that waits for
# cloud-init to finish, then applies the puppet/mcollective service switches (a service
# the image started before cloud-init wrote its config is restarted: it must read
# ours, e.g. mcollective's server.cfg with the broker and identity).
set -u
# Where /etc and the log live (tests point them elsewhere).
ETC=${FUEL_FORGE_ETC:-/etc}
LOG_DIR=${FUEL_FORGE_LOG_DIR:-/var/log/fuel-forge}
. "$ETC/fuel-forge/firstboot.env"
log() { echo "$(date -u +%FT%TZ) $*" >> "$LOG_DIR/firstboot.log"; }
mkdir -p "$LOG_DIR"
# Whether unit $1 is active since after each of its config files (under /etc) was last
# written: then it read ours. Unknown (no --timestamp=unix before systemd 248, a file
# written in the same second) counts as no.
running_since_config() {
  u=$1; shift
  systemctl is-active --quiet "$u.service" || return 1
  since=$(systemctl show --timestamp=unix -P ActiveEnterTimestamp "$u.service" 2>/dev/null) || return 1
  since=${since#@}
  case $since in ''|*[!0-9]*) return 1 ;; esac
  for f in "$@"; do
    [ -e "$ETC/$f" ] || continue
    [ "$(stat -c %Y "$ETC/$f")" -lt "$since" ] || return 1
  done
}
# svc NAME yes|no CONFIG...: the service switch, and a restart only when the running
# service has not read the config cloud-init wrote (on Debian, write_files runs before
# any multi-user service starts; a restart there cost a second start-up — seconds of
# Ruby under emulation — while the master may already be calling).
svc() {
  name=$1 want=$2; shift 2
  command -v systemctl >/dev/null 2>&1 || return 0
  systemctl cat "$name.service" >/dev/null 2>&1 || { log "service $name not installed"; return 0; }
  # enable/disable only when it changes something: on Debian each goes through
  # systemd-sysv-install (update-rc.d), seconds on a slow boot.
  if [ "$want" = yes ]; then
    systemctl is-enabled --quiet "$name.service" || systemctl enable "$name.service"
    if running_since_config "$name" "$@"; then log "service $name already running with its config"
    else systemctl restart --no-block "$name.service"; fi
  elif systemctl is-enabled --quiet "$name.service"; then systemctl disable --now "$name.service"
  else systemctl stop "$name.service"; fi
  log "service $name enabled=$want"
}
# The call-back first: it waits for cloud-init to finish (these switches included), and its
# start-up (Python and cloud-init's own imports, seconds on a slow node) overlaps them.
log "scheduling provisioned report"
/usr/bin/python3 /usr/local/sbin/fuel-forge-report --schedule || log "scheduling the provisioned report failed: exit $?"
svc puppet "$PUPPET_ENABLE" puppet/puppet.conf default/puppet
svc mcollective "$MCO_ENABLE" mcollective/server.cfg default/mcollective
