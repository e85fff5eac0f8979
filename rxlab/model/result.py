"""What a simulated run produced, as tidy pandas DataFrames."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rxlab.counters import READER_PREFIX, Ctr
from rxlab.engine.layout import CN, QS, SM
from rxlab.kernel.tcp import TCP_IP_HEADERS


def _cols(layout):
    return [m.name for m in layout if m.name != "n"]


@dataclass(frozen=True, eq=False)
class Result:
    """Counters and samples of one run (see rxlab.counters for every counter's meaning).

    ``counters``: engine counters over the run, on every CPU; ``counters_reader``: the share of
    each done on a reading CPU (app_cpus='remote'; the rest was done on the NAPI CPUs); ``qstats`` per RX queue; ``conn`` per
    connection; ``samples`` memory over model time; ``ratio_hist`` the len/truesize ratio
    (tcp scaling_ratio / 256) of arriving data packets in 64 bins over 0..1.
    """

    config: object
    geometry: object
    counters: np.ndarray
    qstats: np.ndarray
    conn: np.ndarray
    samples: np.ndarray
    ratio_hist: np.ndarray
    t_us: float
    mem_used_end: int
    inflight_end: np.ndarray
    page_bytes: int
    events: tuple = ()  # reconfigurations: at_packet, t_us, mtu, xdp, ok, error
    counters_reader: np.ndarray = None  # of ``counters``, what the reading CPUs did (CPU class "reader")
    trapped_at: np.ndarray = None  # per connection: when its first trap drop came (µs; inf: none)
    ack_ring_full: int = 0  # ACKs lost because more were in flight than rxlab's ring holds

    def counter(self, name, cpu_class=None):
        """A counter over the run; ``cpu_class`` "napi" or "reader" gives that CPU class's share."""
        total = int(self.counters[Ctr[name]])
        if cpu_class is None:
            return total
        reader = int(self._reader()[Ctr[name]])
        return {"napi": total - reader, "reader": reader}[cpu_class]

    def _reader(self):
        return np.zeros_like(self.counters) if self.counters_reader is None else self.counters_reader

    @property
    def reader_cpus_busy(self):
        """Reading CPUs that read data (not a NAPI CPU: app_cpus='remote')."""
        napi = self.conn[:, CN.queue]  # queue q's NAPI runs on CPU q
        read = (self.conn[:, CN.delivered] > 0) & (self.conn[:, CN.app_cpu] != napi)
        return len(np.unique(self.conn[read, CN.app_cpu]))

    @property
    def delivered_bytes(self):
        """Payload bytes the applications read."""
        segs = self.conn[:, CN.delivered] / self.config.mtu
        return float((self.conn[:, CN.delivered] - segs * TCP_IP_HEADERS).sum())

    @property
    def goodput_gbps(self):
        """Payload TCP accepted (the connections' rcv_nxt) per model time: what the senders' windows
        let through, read by the applications or still queued for them at the end (as what GRO
        held when traffic stopped), so that a short run's last poll and read period do not pass
        for a window limit. What the reading CPUs can copy is the cost model's to price."""
        return float(self.conn[:, CN.rcv_nxt].sum()) * 8 / (self.t_us * 1e3) if self.t_us > 0 else 0.0

    def trapped(self):
        """The connections trapped in the run, and why: their progress was set by the sender's
        retransmission timers, not by the buffers. Either it dropped skbs for receive memory
        (TCPRcvQDrop) and needed an RTO (at least TCP_RTO_MIN, 200 ms, doubling) to recover, so
        the run's throughput is a wait on the timer and depends on the run's length; or it ends with
        sk_rcvbuf below an initial window (TCP_INIT_CWND, include/net/tcp.h) of segments at their
        truesize after such drops, which drops what the window lets through. From 6.17
        (1d2fbaad7cd8) tcp_prune_queue() calls tcp_clamp_window() whenever the admission rule
        refuses an skb, which sets sk_rcvbuf to what is queued without the skb; an skb that finds
        another still queued is then dropped, and what follows the hole lies beyond the zero window
        the drop advertised (e2142825c120) or finds no room in the out-of-order queue, so the sender
        waits for its tail loss probe and RTO (the metrics TCPLossProbes, TCPTimeouts): seed 000's
        stream with GRO off (tests/test_transport.py). Such a flow's throughput is not a figure to compare.
        ``trapped_at_us`` is when its first trap drop came (NaN for one the RTO alone marks)."""
        k = self.conn
        short = (k[:, CN.trap_need] > 0) & (k[:, CN.rcvbuf] < k[:, CN.trap_need])
        timed = (k[:, CN.rmem_drops] > 0) & (k[:, CN.timeouts] > 0)
        idx = np.flatnonzero(short | timed)
        at = self.trapped_at[idx] if self.trapped_at is not None else np.full(len(idx), np.inf)
        at = np.where(np.isfinite(at), at, np.nan)
        adm = self.config.release.admission
        why = [(f"sk_rcvbuf {int(k[c, CN.rcvbuf])} B < {int(k[c, CN.trap_need])} B, an initial window of its "
                f"segments, after drops under {adm} admission") if short[c] else
               (f"{int(k[c, CN.rmem_drops])} segments dropped for receive memory under {adm} admission, "
                f"recovered with {int(k[c, CN.timeouts])} RTO(s) of 200 ms or more") for c in idx]
        return pd.DataFrame({"connection": idx, "trapped_at_us": at, "rcvbuf": k[idx, CN.rcvbuf],
                             "need": k[idx, CN.trap_need], "trap_drops": k[idx, CN.trap_drops],
                             "timeouts": k[idx, CN.timeouts], "why": why})

    def drops(self):
        """Packets dropped, by cause."""
        q = self.qstats.sum(axis=0)
        return {
            "rx_alloc_fail": int(q[QS.rx_alloc_fail]),
            "xdp_drop": int(q[QS.xdp_drop]),
            "tcp_rmem": int(self.conn[:, CN.rmem_drops].sum()),
            "tcp_old_data": int(self.conn[:, CN.dup_data].sum()),
            "tcp_ofo": int(self.conn[:, CN.ofo_drops].sum()),
            "tcp_zero_window": int(self.conn[:, CN.zwin_drops].sum()),
            "tcp_beyond_window": int(self.conn[:, CN.oow_drops].sum()),
            "skb_table_full": int(q[QS.skb_table_full]),
        }

    def mem_efficiency(self):
        """The dynamic memory efficiency at each sample, held / mem_used (rxlab.counters.METRICS):
        its mean over the samples, its peak and its worst (lowest) moment."""
        s = self.samples
        eff = s[:, SM.held] / np.maximum(s[:, SM.mem_used], 1.0)
        if len(eff) == 0:  # a run takes at least one sample (SimConfig: samples >= 1, packets >= 1)
            return {"mem_efficiency_mean": 0.0, "mem_efficiency_peak": 0.0, "mem_efficiency_worst": 0.0}
        return {"mem_efficiency_mean": float(eff.mean()), "mem_efficiency_peak": float(eff.max()),
                "mem_efficiency_worst": float(eff.min())}

    def metrics(self):
        """Derived figures of the run, each documented in rxlab.counters.METRICS."""
        pk = int(self.qstats[:, QS.rx_packets].sum())
        return {
            "packets": pk,
            "rx_queues_busy": int((self.qstats[:, QS.rx_packets] > 0).sum()),
            "reader_cpus_busy": self.reader_cpus_busy,
            "model_time_us": self.t_us,
            "goodput_gbps": self.goodput_gbps,
            "mem_peak_bytes": float(self.samples[:, SM.mem_used].max()) if len(self.samples) else 0.0,
            "mem_end_bytes": self.mem_used_end,
            "inflight_end": int(self.inflight_end.sum()),
            "inflight_mem_end": int(self.inflight_end.sum()) * self.page_bytes,
            "atomic_rmw_per_packet": self.counter("atomic_rmw") / max(pk, 1),
            "atomic_rmw_remote_per_packet": self.counter("atomic_rmw_remote") / max(pk, 1),
            "rwnd_stalls": int(self.conn[:, CN.stalls].sum()),
            "trapped_connections": len(self.trapped()),
            # the senders' own MIB counters (rxlab.engine.sender)
            "TCPLossProbes": int(self.conn[:, CN.loss_probes].sum()),
            "TCPTimeouts": int(self.conn[:, CN.timeouts].sum()),
            "RetransSegs": int(self.conn[:, CN.retrans].sum()),
            "TCPFastRetrans": int(self.conn[:, CN.fast_retrans].sum()),
            "TCPSACKRecovery": int(self.conn[:, CN.sack_recovery].sum()),
            "TCPSACKReneging": int(self.conn[:, CN.sack_reneging].sum()),
            "TCPLossProbeRecovery": int(self.conn[:, CN.tlp_recovery].sum()),
            "TCPLostRetransmit": int(self.conn[:, CN.lost_retrans].sum()),
            "TCPWinProbe": int(self.conn[:, CN.win_probes].sum()),
            "acks_sent": int(self.conn[:, CN.acks_sent].sum()),
            "ack_ring_full": self.ack_ring_full,
            "reader_wakes": int(self.conn[:, CN.wakes].sum()),
            "tpa_packets": int(self.qstats[:, QS.tpa_packets].sum()),
            "mem_efficiency_buffer": self.geometry.mem_efficiency_buffer,
            "mem_efficiency_ring": self.geometry.mem_efficiency_ring,
            **self.mem_efficiency(),
            **{f"drop_{k}": v for k, v in self.drops().items()},
        }

    def to_frame(self):
        """One row: the configuration, every counter and every derived metric."""
        row = {k: (str(v) if isinstance(v, tuple) else v) for k, v in self.config.to_dict().items()}
        row.update({c.name: int(self.counters[c]) for c in Ctr})
        reader = self._reader()
        row.update({READER_PREFIX + c.name: int(reader[c]) for c in Ctr})
        row.update(self.metrics())
        return pd.DataFrame([row])

    def counters_frame(self):
        """Long form: counter, value, per packet, and the value by CPU class (napi, reader)."""
        pk = max(int(self.qstats[:, QS.rx_packets].sum()), 1)
        reader = self._reader()
        return pd.DataFrame({"counter": [c.name for c in Ctr], "value": self.counters.astype(np.int64),
                             "per_packet": self.counters / pk, "napi": (self.counters - reader).astype(np.int64),
                             "reader": reader.astype(np.int64)})

    def queues_frame(self):
        return pd.DataFrame(self.qstats, columns=_cols(QS)).rename_axis("queue").reset_index()

    def queue_occupancy(self):
        """Per RX queue: the connections RSS put there (``connections``) and the packets it received:
        flows collide, so some queues carry several connections while others sit idle."""
        n = len(self.qstats)
        return pd.DataFrame({"queue": np.arange(n),
                             "connections": np.bincount(self.conn[:, CN.queue].astype(np.int64), minlength=n)[:n],
                             "rx_packets": self.qstats[:, QS.rx_packets]})

    def connections_frame(self):
        return pd.DataFrame(self.conn, columns=_cols(CN)).rename_axis("connection").reset_index()

    def samples_frame(self):
        return pd.DataFrame(self.samples, columns=_cols(SM))

    def truesize_frame(self):
        """The len/truesize ratio histogram of arriving data packets."""
        n = len(self.ratio_hist)
        return pd.DataFrame({"ratio_low": np.arange(n) / n, "ratio_high": np.arange(1, n + 1) / n,
                             "packets": self.ratio_hist})
