"""Packets per run, in one place: each study's quick count (tests, ``rxlab report --quick``) and
full count. Numbers of packets, not of seconds: a run's time grows with them linearly."""

from typing import NamedTuple


class Packets(NamedTuple):
    quick: int
    full: int

    def __call__(self, quick):
        return self.quick if quick else self.full


RUN = 100_000  # SimConfig.packets
# SimConfig.wake_us: a woken reader's median scheduling latency on an otherwise idle CPU, as each of
# rxlab's reading CPUs is (data/read_model.md: iovisor/bcc pull request 4713); 8-11 µs on a busy box and
# 45-48 µs at schbench's default load are the range a verdict's band spans (rxlab.studies.seeds)
WAKE_US = 2.0
CLAIMS = Packets(60_000, 250_000)  # the claims scoreboard: rxlab claims (quick), rxlab report (full)
# The fewest packets per simulation a verdict rests on: about half a pass over seed 001's 16 x 256 ring
# entries. Every verdict at 1,000 to 60,000 packets is the one at CLAIMS.quick; at 100 three claims change
# verdict, and at 1 packet ratios divide by zero (rxlab claims --packets N, compared by hand when set)
CLAIMS_MIN = 2_000
CLAIMS_GRID = 200_000  # rxlab.studies.grid.CLAIMS_GRID, the sweep benchmark's grid
EXPLORER = Packets(3_000, 20_000)  # notebook 00's panel, a redraw per control change
# rxlab.views.panel: each point of a sweep panel (cached once run). The throughput estimate reads the
# run's goodput, so a run needs many round trips past the windows' opening (10,000 packets of MTU 576
# at 200 Gbps take ~250 µs of model time, five RTTs of 50 µs)
SWEEP_PANEL = Packets(10_000, 100_000)
CONNECTION_SCALING = Packets(20_000, 100_000)  # notebook 02
LARGE_PAGES = Packets(5_000, 50_000)  # notebook 03
TRUESIZE = Packets(3_000, 50_000)  # notebook 04
LIFECYCLES = Packets(3_000, 50_000)  # notebook 05, per scenario
REPORT_GRID = Packets(2_000, 20_000)  # rxlab report's explorable grid (rxlab.views.explorable), per run
