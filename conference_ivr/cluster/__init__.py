"""The cluster (issue 21): several Asterisk media nodes; ``kamailio.py`` is the SIP front."""
