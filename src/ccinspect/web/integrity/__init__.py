"""Data that can be proven intact: the audit chain and the evidence files verified (`verify.py`), and the
database with its evidence backed up to and restored from one self-checking archive (`backup.py`)."""
