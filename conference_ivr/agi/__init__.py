"""FastAGI: typed protocol, a session per call, and a server that routes by script name."""
