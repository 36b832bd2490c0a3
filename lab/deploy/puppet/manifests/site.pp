# The deployment's first step in the lab, as Fuel's deployment started: the
# orchestrator put the node's deployment facts in place (/etc/facter/facts.d/
# fuel.yaml: fuel_uid, fuel_role, like Fuel's /etc/astute.yaml), rsynced this
# tree from the master and ran `puppet apply` on it.
if $facts['fuel_uid'] == undef or $facts['fuel_role'] == undef {
  fail('fuel_uid/fuel_role facts missing: the orchestrator writes /etc/facter/facts.d/fuel.yaml first')
}
class { 'fuel_forge_node':
  uid  => "${facts['fuel_uid']}",
  role => $facts['fuel_role'],
}
