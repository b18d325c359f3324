"""The ``dialconf`` command and the composition root: the only place that builds the services
(services.py) and the processes' running parts (compose.py) from settings."""
