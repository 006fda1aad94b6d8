import sys

from passerlink.cli import main

sys.exit(main())
