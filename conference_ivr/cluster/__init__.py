"""Several media nodes behind Kamailio on one store (issue 21): placement, relaying, the SIP front."""
