"""The sweep result cache: one small parquet file per run (~22 KB, :meth:`ResultCache.put`), named by a hash of the run's canonical
configuration and the model version.

Writes go to a temporary file in the same folder and are renamed over the final name
(``os.replace`` is atomic), so a process killed at any moment leaves either a complete result
or none: a half-written file only ever carries a ``.tmp`` name and is never read.

A file is served only if it is one run's whole row of the requested configuration (every
configuration, counter and metric column): unreadable files, files of another schema and files of another configuration (copied over, or renamed)
count as missing, are recomputed and overwritten, and are listed in ``ResultCache.bad``.
"""

import errno
import hashlib
import json
import os
import socket
import stat
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from rxlab.atomic import atomic_path, file_kind
from rxlab.counters import METRICS, READER_PREFIX, Ctr
from rxlab.errors import bad
from rxlab.model.config import FIELDS

MODEL_VERSION = 37  # 2: reader_cpus, skb_defer_max; 3: Toeplitz RSS; 4: pre-allocation unmaps;
# 5: memory efficiency; 6: kernel releases (SimConfig.kernel, online_cpus; the newest release's defaults);
# 7: page_pool's own DMA mappings fail at dma_map_fail_rate; 8: a detached queue's full pages go to the ptr_ring;
# 9: the receive side as each release has it (autotuning, SO_RCVBUF, prune/collapse and admission, the
# advertised window's right edge)
# 10: counts per CPU class (reader_*), tcp_recvmsg, bytes_to_user, ptr_ring_produce_cpus_1..8
# 11: dynamic memory efficiency (held packet bytes: SK.page_len, CN.held, SM.held)
# 12: NAPI GRO (aggregates before TCP, scaling_ratio per skb by tcp_measure_rcv_mss, polls end when the
# link idles, rmem_drops in segments)
# 13: goodput_gbps is payload TCP accepted (rcv_nxt), not payload read, per model time
# 14: the applications read only on online CPUs (SimConfig.reading_cpus); online_cpus defaults to 4096
# 15: 972ca7a3bc9a's empty-queue return (6.17+), 026dfef287c0's admission (7.0, 6.18.17, 6.19.7),
# point releases and fixes, tcp_rmem_default, trapped connections (CN.trap_*)
# 16: a segment dropped for receive memory is resent at the sender's timers (tail loss probe, RTO with
# backoff: CN.backoff, recovery, loss_probes, timeouts, retrans), not after the next read
# 17: max_skbs bounds every skb that exists at once, whatever GRO, queues and napi_budget
# 18: the ptr_ring producer lock in model time (ptr_ring_produce_contended, ptr_ring_lock_wait, SimConfig
# .ptr_ring_hold_ns) in place of ptr_ring_produce_cpus_1..8 counted per read period
# 19: the receive window as the kernel selects it: window_clamp (by release: a2cbb1603943, f5da7c45188e),
# rcv_ssthresh grown by tcp_grow_window, __tcp_select_window's scale rounding and SWS avoidance,
# window-update ACKs after a read (tcp_cleanup_rbuf); CN.window_clamp, rcv_ssthresh, rcv_wup, win_updates
# 20: the transport: Linux senders (cwnd, slow start and Reno's avoidance, TSO skbs, ACKs back one
# RTT later, tail loss probes, RTOs, zero-window probes), delayed and quick ACKs, readers woken by
# their data (SimConfig.reader, wake_us, rcvlowat), NAPI polls that end when their ring does; CN
# columns 30-57, the timers and ACK ring, drop_tcp_old_data, drop_tcp_ofo
# 21: the zero-window ACK of a memory failure (ICSK_ACK_NOMEM, e2142825c120, by release), tcp_sequence()
# and TCPZeroWindowDrop, a sender that follows a shrunk window and probes it with its RTO; CN columns
# 58-60, counters TCPZeroWindowDrop, BeyondWindow, drop_tcp_zero_window, drop_tcp_beyond_window
# (21, also: TSO skbs at most half cwnd, tcp_cwnd_test; quick-ack mode ended by __tcp_select_window;
# the zero-window probe timer re-armed by the ACK of a still closed window, tcp_ack_probe)
# 22-23: only on branch sack (its out-of-order queue and SACK before this merge); skipped so that no
# result cached there is taken for one of 24
# 24: the receiver's out-of-order queue (tcp_data_queue_ofo, tcp_ofo_queue, tcp_prune_ofo_queue) and
# its SACK blocks in the ACKs; TCPOFOQueue, TCPOFODrop, TCPOFOMerge, OfoPruned; ooo_updates_ratio;
# the sender's SACK scoreboard, RACK, fast recovery with PRR (TCPFastRetrans, TCPSACKRecovery; CN
# sacked_out, lost_out); idle reads skipped when only out-of-order data is marked; CN.ofo_segs
# (segments waiting out of order); dup_data also counts segments that arrived again out of order
# (TCPOFOMerge) or partly old; pruned segments counted by the skbs' own segments; CN columns 61-65.
# Out-of-order data goes through tcp_sequence() first and is admitted as in-order data is, without
# the zero-window ACK of a memory failure (tcp_data_queue_ofo sets no ICSK_ACK_NOMEM)
# 25: counters rmem_charged, rmem_charged_payload (sk_rmem_alloc charged as skbs are admitted, and their
# payload); nothing else moves
# 26: mlx5's striding RQ simulated (Mode.mpw: driver mlx5 runs instead of being refused); DT.head_data
# 27: bnxt_en's page mode (an XDP program on driver="bnxt": Mode.page, bnxt_rx_xdp, bnxt_rx_page_skb),
# refused before
# 28: segments cut to the window: a retransmission (__tcp_retransmit_skb, tcp_fragment, collapsed by
# tcp_retrans_try_collapse) and data in a zero-window probe (tcp_write_wakeup); CN.seg_len, SB entries
# 29: an RTO keeps the SACK scoreboard (tcp_timeout_mark_lost): TCP_CA_Loss takes SACK blocks and resends
# only what is not SACKed; collapses stop at SACKed entries; fast retransmissions cut to the window and
# not sent beyond it (__tcp_retransmit_skb); sacked_out and lost_out count entries; CN.sack_reneging
# (TCPSACKReneging)
# 30: in TCP_CA_Loss the head goes again into a closed window on an ACK too, not only at the RTO
# 31: an RTO in TCP_CA_Loss lowers ssthresh again once an ACK advanced snd_una since the last (tcp_enter_loss)
# 32: a delayed ACK whose timer is due within ato / 4 is sent at once (tcp_send_delayed_ack)
# 33: a tail loss probe that resent the last segment and is ACKed beyond halves the window
# (tcp_process_tlp_ack, TCPLossProbeRecovery, CN.tlp_recovery, SB.tlp_retrans); a segment that arrives
# again below rcv_nxt is D-SACKed in its immediate ACK (AK.dsack), which ends a probe it answers
# 34: RACK finds lost retransmissions (a segment sent after one is delivered before it) in
# TCP_CA_Recovery and TCP_CA_Loss, which then enters recovery (291a00d1a70f); CN.lost_retrans
# (TCPLostRetransmit), SB's log of retransmissions in flight
# 35: F-RTO's step 2b (tcp_process_loss, tcp_frto = 2): the first ACK advancing snd_una after an RTO sends
# new data before the rest of what the RTO marked lost (SB.frto); retransmissions in TCP_CA_Loss are not
# TCPFastRetrans
# 36: D-SACK of data that arrives again out of order, partly below rcv_nxt or beyond the window
# (tcp_data_queue_ofo, tcp_dsack_extend, tcp_send_dupack; OF.dsack); an ACK with a D-SACK carries one
# SACK block fewer (tcp_established_options)
# 37: bnxt's hardware GRO (TPA: rxlab.engine.rxq_bnxt_tpa; SimConfig.gro_hw, tpa_timer_us); without GRO no
# TPA and, at MTU 1500, no aggregation ring (bnxt_fix_features); QS tpa_events, tpa_packets; metric tpa_packets
"""Version of what ``simulate()`` computes. Bump it whenever a change to the engine, the
simulation or ``Result.to_frame()`` changes any number or column a run produces: cached results
of other versions are then no longer found (they stay on disk under ``model-<N>/`` until
deleted). A change that only makes the engine faster keeps it."""

CACHE_ENV = "RXLAB_CACHE_DIR"
STALE_SECONDS = 24 * 3600
"""A temporary file, or another machine's claim on a run, older than this is left over by a
process that died (a run of the longest documented grid point takes minutes, its write
milliseconds): removed when a sweep starts, or taken over."""


def default_cache_dir():
    """``$RXLAB_CACHE_DIR``, else ``.rxlab-cache`` in the current directory (git-ignored)."""
    return Path(os.environ.get(CACHE_ENV) or ".rxlab-cache")


def study_cache_dir():
    """Where the claims scoreboard and the notebooks keep their runs: ``$RXLAB_CACHE_DIR``, else
    ``.rxlab-cache`` at the root of the source checkout rxlab is imported from (git-ignored), so
    ``rxlab claims`` and ``rxlab report`` run from anywhere and the notebooks' kernels (started in
    ``notebooks/``) share one cache; else, for an installed package, :func:`default_cache_dir`."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "rxlab" / "__init__.py").is_file():
        return root / ".rxlab-cache"
    return default_cache_dir()


def run_key(cfg):
    """SHA-256 of the configuration (every field, the seed included) and MODEL_VERSION.

    The configuration must be canonical (as ``rxlab.studies.grid.expand`` makes it: floats as floats,
    XDP fractions as a tuple of floats) so that equal runs hash equally."""
    text = json.dumps({"model_version": MODEL_VERSION, "config": cfg.to_dict()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def config_row(cfg):
    """The configuration columns of the run of ``cfg`` as ``Result.to_frame()`` writes them."""
    return {k: (str(v) if isinstance(v, tuple) else v) for k, v in cfg.to_dict().items()}


def _wrong(table, cfg):
    """Why ``table`` is not the cached run of ``cfg`` (None if it is)."""
    counters, config = {p + c.name for c in Ctr for p in ("", READER_PREFIX)}, set(FIELDS)
    have = set(table.column_names)
    missing = [c for c in (*FIELDS, *(c.name for c in Ctr)) if c not in have]
    if missing:
        return f"not a result of rxlab (no column {missing[0]!r})"
    missing = [c for c in (*sorted(counters), *METRICS) if c not in have]
    if missing:  # a row without it would give NaN in the sweep's frame
        return f"a row without the column {missing[0]!r}"
    if table.num_rows != 1:
        return f"{table.num_rows} rows, not one"
    for f in table.schema:  # counters are integers, metrics numbers (a string column would not concatenate)
        if f.name in counters and not pa.types.is_integer(f.type):
            return f"column {f.name!r} of type {f.type}, not an integer"
        if f.name not in config | counters and not (pa.types.is_integer(f.type) or pa.types.is_floating(f.type)):
            return f"column {f.name!r} of type {f.type}, not a number"
    stored = table.select(list(FIELDS)).to_pylist()[0]
    want = config_row(cfg)
    diff = [k for k in FIELDS if stored[k] != want[k] or type(stored[k]) is not type(want[k])]
    if diff:
        return f"the result of another configuration ({diff[0]}={stored[diff[0]]!r}, not {want[diff[0]]!r})"
    return None


def compact(table):
    """``table`` without the pandas metadata (every column described again) and with its text
    columns as ``string``, as a parquet file gives them back without the Arrow schema: a row read
    from the cache and one just computed are the same table, and concatenate."""
    schema = pa.schema([f.with_type(pa.string()) if pa.types.is_large_string(f.type) else f
                        for f in table.schema.remove_metadata()])
    return table.replace_schema_metadata(None).cast(schema)


class ResultCache:
    """Results under ``root/model-<MODEL_VERSION>/<first two hex digits>/<key>.parquet``.

    ``bad``: (path, why) of every file :meth:`get` refused (it is then recomputed)."""

    def __init__(self, root=None):
        self.root = Path(root) if root is not None else default_cache_dir()
        self.bad = []
        self.held = set()  # the keys this process claimed and has not released

    def path(self, key):
        return self.root / f"model-{MODEL_VERSION}" / key[:2] / f"{key}.parquet"

    def get(self, key, cfg=None):
        """The cached one-row table of ``cfg`` (whose key is ``key``), or None. A file that is
        not there counts as missing; so does one that is unreadable (e.g. emptied by a power
        loss, which os.replace does not guard against without fsync) or, given ``cfg``, not its
        run (another schema, another configuration): those are listed in ``bad`` and are
        recomputed and overwritten. A folder where the file belongs is an error (IsADirectoryError),
        and so is anything else that is not a regular file (a symlink, or a FIFO, whose reading would
        wait for a writer forever): rxlab writes only regular files."""
        path = self.path(key)
        try:
            mode = os.lstat(path).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return None
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "a folder where a cached result belongs (remove it)", str(path))
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, f"{file_kind(mode)} where a cached result belongs (remove it)", str(path))
        try:  # one row: ParquetFile without threads reads it ~40% faster than read_table
            with pq.ParquetFile(path) as f:
                table = f.read(use_threads=False)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except (OSError, pa.ArrowException) as e:
            self._bad(path, f"unreadable ({type(e).__name__}: {str(e).splitlines()[0][:200]})")
            return None
        why = _wrong(table, cfg) if cfg is not None else None
        if why:
            self._bad(path, why)
            return None
        return compact(table)  # a file of an earlier rxlab may carry the metadata and large_string

    def _bad(self, path, why):
        if (str(path), why) not in self.bad:  # read again while waiting for another sweep
            self.bad.append((str(path), why))

    def check_writable(self):
        """Refuse, before any run, a cache folder this process cannot write (read-only, a file,
        beneath a file): ``cache=`` is named with the reason."""
        folder = self.root / f"model-{MODEL_VERSION}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".write-test.", suffix=".tmp")
            os.close(fd)
            os.unlink(tmp)
        except OSError as e:
            raise bad("cache", str(self.root), f"a folder this process can write ({e.strerror or e}: "
                      f"{e.filename or folder})") from None

    def clean(self):
        """Remove the temporary files a killed writer left (``kill -9`` mid-write): those older
        than :data:`STALE_SECONDS`, so that a concurrent sweep's write in progress is never touched.
        Returns how many were removed."""
        now, gone = time.time(), 0
        for tmp in (self.root / f"model-{MODEL_VERSION}").glob("**/.*.tmp"):
            try:
                if now - tmp.lstat().st_mtime > STALE_SECONDS:
                    tmp.unlink()
                    gone += 1
            except OSError:  # gone already (another sweep cleaned it)
                pass
        return gone

    def _claim_path(self, key):
        return self.path(key).with_suffix(".claim")

    def claim(self, key):
        """Claim the run ``key`` for this process (a ``<key>.claim`` file beside its result, naming
        the host and process), so that a concurrent sweep on this cache waits for its result
        instead of computing it too: True if it is this process's to compute, False if another
        live sweep claimed it. A claim whose process is gone (on this machine) or older than
        :data:`STALE_SECONDS` is taken over."""
        path = self._claim_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        mine = f"{socket.gethostname()} {os.getpid()}\n"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            if not self._stale(path):
                return False
            with atomic_path(path) as tmp:  # two sweeps may take over one claim: both compute it, once
                Path(tmp).write_text(mine)
        else:
            with os.fdopen(fd, "w") as f:
                f.write(mine)
        self.held.add(key)
        return True

    def _stale(self, path):
        try:
            text = path.read_text()
            age = time.time() - path.stat().st_mtime
        except OSError:  # gone: released
            return True
        try:
            host, pid = text.split()
        except ValueError:  # not written yet by its claimer (created, then written), or a killed one's
            return age > 10.0
        if host == socket.gethostname():
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                return True
            except (PermissionError, ValueError):  # another user's live process
                pass
        return age > STALE_SECONDS

    def release(self, key):
        """Drop the claim on ``key`` (its result is stored, or this sweep stops)."""
        self.held.discard(key)
        self._claim_path(key).unlink(missing_ok=True)

    def release_all(self):
        for key in list(self.held):
            self.release(key)

    def put(self, key, table):
        """Write ``table`` atomically: to a temporary name, then renamed over the final one.
        Returns the table as written (:func:`compact`), the one :meth:`get` reads back."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        table = compact(table)
        with atomic_path(path) as tmp:
            # ~22 KB a run instead of ~117 KB: of a one-row file, the footer is nearly all; no
            # statistics (min = max = the value), no dictionary pages, no compression of single
            # values, and no Arrow schema (its types are the file's own, once compact)
            pq.write_table(table, tmp, write_statistics=False, use_dictionary=False, compression="none",
                           store_schema=False)
        return table
