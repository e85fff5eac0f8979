"""The model: a validated configuration (:mod:`.config`), the run that drives the engine
(:mod:`.simulate`) and what it produced (:mod:`.result`)."""
