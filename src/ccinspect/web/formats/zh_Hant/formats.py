# Only what differs from Django's zh_Hant formats (which leave digits ungrouped).
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
