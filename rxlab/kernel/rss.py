"""Which RX queue a connection's packets arrive on."""


def rss_queue(conn, queues):
    """The RX queue a connection hashes to (a fixed multiplicative hash standing in for Toeplitz)."""
    return ((conn * 2654435761) & 0xFFFFFFFF) % queues
