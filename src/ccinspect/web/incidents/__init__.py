"""The incident register: reporting clocks (003: initial report within 30 minutes, formal report within 24
hours, closure within 3 days), the immediate report to TWSE for personal-data incidents (CC-20000.6), RTO
against the tolerable interruption time for outages, findings and BCP follow-ups raised from incidents."""
