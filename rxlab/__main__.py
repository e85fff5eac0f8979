import sys

from rxlab.cli import main

sys.exit(main())
