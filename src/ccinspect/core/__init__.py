"""The shared kernel: dates, identifiers, results, errors, text files, atomic writes, settings, exit codes.

Everything else in ccinspect may import from here; nothing here imports the rest of ccinspect.
"""
