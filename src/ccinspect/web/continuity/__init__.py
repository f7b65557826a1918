"""The business continuity register (CC-20000) in the web application: one broker's records in the database,
turned into a `ccinspect.continuity.Register` and evaluated by the library."""
