"""`python -m conference_ivr` is the `dialconf` command."""

from conference_ivr.dialconf.cli import main

raise SystemExit(main())
