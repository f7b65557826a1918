"""The shared kernel: what every bounded context uses (atomic writes, exit codes)."""
