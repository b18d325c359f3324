"""Dial-in IVR and conference controller for Asterisk ConfBridge.

Public surface: :mod:`conference_ivr.settings` (configuration), :mod:`conference_ivr.dialconf.cli`
(the ``dialconf`` command) and :mod:`conference_ivr.errors` (the exception tree).
Nothing here connects, reads configuration or registers anything at import time.
"""

__version__ = "0.1.0"
