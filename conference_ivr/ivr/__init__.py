"""The dial-in journey a caller hears, as a FastAGI route."""
