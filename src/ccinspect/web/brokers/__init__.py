"""Brokers as records: onboard, edit (a dated profile version each time) and retire a broker organisation."""
