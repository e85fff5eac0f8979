"""The ``rxlab`` command line. Errors print one line and exit non-zero."""

import argparse
import json
import sys

from rxlab.kernel.mana import (
    ADAPTER_MTU_DEFAULT,
    DEF_RX_BUFFERS_PER_QUEUE,
    MANA_DEF_NUM_QUEUES,
    VARIANTS,
    mana_rx_geometry,
)
from rxlab.kernel.sizes import ARCHES


def _geometry(args):
    g = mana_rx_geometry(args.page_size, args.mtu, args.xdp, args.variant, args.arch,
                         args.ring_size, args.queues, args.adapter_mtu)
    d = g.to_dict()
    if args.json:
        print(json.dumps(d))
        return
    width = max(map(len, d))
    for k, v in d.items():
        print(f"{k:<{width}}  {v}")


def _report(args):
    from rxlab.report import build_reports

    build_reports(args.out)


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def parser():
    p = _Parser(prog="rxlab", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    g = sub.add_parser("geometry", help="MANA RX buffer geometry for one configuration")
    g.add_argument("--page-size", type=int, default=4096, help="PAGE_SIZE in bytes (default 4096)")
    g.add_argument("--mtu", type=int, default=1500, help="MTU (default 1500)")
    g.add_argument("--xdp", action="store_true", help="an XDP program is attached")
    g.add_argument("--variant", choices=VARIANTS, default="post", help="before or after the fragment patch")
    g.add_argument("--ring-size", type=int, default=DEF_RX_BUFFERS_PER_QUEUE, help="RX ring entries per queue")
    g.add_argument("--queues", type=int, default=MANA_DEF_NUM_QUEUES, help="RX queues of the NIC")
    g.add_argument("--arch", choices=tuple(ARCHES), default="arm64")
    g.add_argument("--adapter-mtu", type=int, default=ADAPTER_MTU_DEFAULT,
                   help="MTU the adapter reports, including the Ethernet header")
    g.add_argument("--json", action="store_true", help="print one JSON object")
    g.set_defaults(run=_geometry)

    r = sub.add_parser("report", help="write the HTML reports")
    r.add_argument("--out", default="reports", help="output folder (default reports/)")
    r.set_defaults(run=_report)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except ValueError as e:
        print(f"rxlab {args.command}: error: {e}", file=sys.stderr)
        return 2
    return 0
