"""Studies over many runs: the seed claims scoreboard (:mod:`.claims`), grids (:mod:`.grid`),
cached, parallel sweeps (:mod:`.sweep`, :mod:`.cache`) and geometry tables (:mod:`.geometry`)."""
