import sys

from vinci_rl.cli import main

sys.exit(main())
