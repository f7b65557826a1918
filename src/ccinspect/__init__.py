"""ccinspect: the TWSE cybersecurity inspection mechanism for securities brokers, as a library."""

__version__ = "0.1.0"
