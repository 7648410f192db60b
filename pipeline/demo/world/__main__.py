"""``python -m pipeline.demo.world OUT_DIR --seed N --physicians N``."""

import sys

from pipeline.demo.world.generate import main

sys.exit(main())
