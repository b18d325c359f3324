"""`python -m conference_ivr` is the `dialconf` command."""

from conference_ivr.cli import main

raise SystemExit(main())
