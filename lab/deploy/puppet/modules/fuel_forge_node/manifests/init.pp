# Records who the node was deployed as and enables a service for its role: the
# two changes the lab then reads back over SSH (deployed.yaml, the unit's state).
class fuel_forge_node (String $uid, String $role) {
  file { '/etc/fuel-forge':
    ensure => directory,
    mode   => '0755',
  }
  file { '/etc/fuel-forge/deployed.yaml':
    ensure  => file,
    mode    => '0644',
    content => "uid: \"${uid}\"\nrole: \"${role}\"\ndeployed_by: puppet\n",
  }
  file { '/etc/systemd/system/fuel-forge-role.service':
    ensure  => file,
    mode    => '0644',
    content => "[Unit]\nDescription=fuel-forge deployed role ${role}\n\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n",
  }
  exec { 'fuel-forge systemd reload':
    command     => '/bin/systemctl daemon-reload',
    refreshonly => true,
    subscribe   => File['/etc/systemd/system/fuel-forge-role.service'],
  }
  service { 'fuel-forge-role':
    ensure   => running,
    enable   => true,
    provider => systemd,
    require  => [File['/etc/fuel-forge/deployed.yaml'], Exec['fuel-forge systemd reload']],
  }
}
