"""NAPI GRO's limits (net/core/gro.c, include/net/gro.h): what bounds an aggregate and how many
flows a NAPI context holds at once.

A queue's NAPI keeps held aggregates in ``GRO_HASH_BUCKETS`` lists chosen by the low bits of the
skb's hash (``skb_get_hash_raw(skb) & (GRO_HASH_BUCKETS - 1)``, dev_gro_receive); a list holds at
most ``MAX_GRO_SKBS`` flows, and a new flow past that completes the list's oldest
(gro_flush_oldest). An aggregate takes segments while ``p->len + len < gro_max_size``
(skb_gro_receive; ``dev->gro_max_size`` defaults to GRO_LEGACY_MAX_SIZE, and MANA does not raise
it). MANA hashes with Toeplitz and its 64-entry indirection table maps entry i to queue i mod
queues: with 8, 16, 32 or 64 queues all of a queue's flows have the same low 3 bits, so they fall
into one bucket, and past 8 of them aggregates break up.
"""

GRO_HASH_BUCKETS = 8  # include/net/gro.h
MAX_GRO_SKBS = 8  # net/core/gro.c
GRO_LEGACY_MAX_SIZE = 65536  # include/linux/netdevice.h: the default dev->gro_max_size
