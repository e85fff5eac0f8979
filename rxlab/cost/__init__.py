"""The throughput cost model, an ESTIMATE: platform profiles with a source for every value
(:mod:`.profiles`), cycles per packet and throughput (:mod:`.pricing`), fits to measured tables
(:mod:`.calibrate`)."""
