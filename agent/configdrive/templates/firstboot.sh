#!/bin/sh
# fuel-forge first-boot script (text/x-shellscript, runs once per instance in
# cloud-final): applies the puppet/mcollective service switches (a service the
# image started before cloud-init wrote its config is restarted: it must read
# ours, e.g. mcollective's server.cfg with the broker and identity), then hands the
# "provisioned" call-back to a separate unit that waits for cloud-init to finish.
set -u
. /etc/fuel-forge/firstboot.env
log() { echo "$(date -u +%FT%TZ) $*" >> /var/log/fuel-forge/firstboot.log; }
mkdir -p /var/log/fuel-forge
svc() {
  command -v systemctl >/dev/null 2>&1 || return 0
  systemctl cat "$1.service" >/dev/null 2>&1 || { log "service $1 not installed"; return 0; }
  # enable/disable only when it changes something: on Debian each goes through
  # systemd-sysv-install (update-rc.d), seconds on a slow boot.
  if [ "$2" = yes ]; then
    systemctl is-enabled --quiet "$1.service" || systemctl enable "$1.service"
    systemctl restart --no-block "$1.service"
  elif systemctl is-enabled --quiet "$1.service"; then systemctl disable --now "$1.service"
  else systemctl stop "$1.service"; fi
  log "service $1 enabled=$2"
}
svc puppet "$PUPPET_ENABLE"
svc mcollective "$MCO_ENABLE"
log "scheduling provisioned report"
exec /usr/bin/python3 /usr/local/sbin/fuel-forge-report --schedule
