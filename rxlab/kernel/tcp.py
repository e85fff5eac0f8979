"""TCP/IP receive-side constants (include/net/tcp.h, include/uapi/linux/ip.h and tcp.h)."""

TCP_IP_HEADERS = 52  # IPv4 header 20 + TCP header with the timestamps option 32: payload = len - 52
ACK_LEN = TCP_IP_HEADERS  # a pure ACK carries the headers and nothing else
TCP_DEFAULT_SCALING_RATIO = 128  # include/net/tcp.h: 1 << (TCP_RMEM_TO_WIN_SCALE - 1)
