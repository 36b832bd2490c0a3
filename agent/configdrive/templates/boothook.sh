#cloud-boothook
#!/bin/sh
# fuel-forge boothook: runs early on every boot, before networking is configured.
# Pins NIC names to the MACs the provisioning data used (kernel_options.udevrules),
# so the admin interface keeps the name the master knows it by.
set -u
mkdir -p /var/log/fuel-forge
echo "$(date -u +%FT%TZ) boothook instance=${INSTANCE_ID:-unknown}" >> /var/log/fuel-forge/firstboot.log
RULES=/etc/udev/rules.d/70-fuel-forge-net.rules
if [ ! -e "$RULES" ]; then
  cat > "$RULES" <<'RULES_EOF'
{{udev_rules}}
RULES_EOF
fi
