"""Everything that touches the Asterisk process: names, config, provisioning, lifecycle."""
