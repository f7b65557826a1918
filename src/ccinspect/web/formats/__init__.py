"""Local number formats: Taiwanese financial documents group digits by three with commas (1,200,000)."""
