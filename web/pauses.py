"""Keep the event loop's pauses short, so badges and the status JSON keep a low p99.

Two things stalled the loop that serves them, measured with gc callbacks and a loop-lag probe on
the badge benchmark's server (100 monitors, a year of history):
- Python's full (generation 2) garbage collection walks every container object the process holds:
  Streamlit, SQLAlchemy and the rest of the imports, ~160,000 objects. Each run held the
  GIL for 130-740 ms. `gc.freeze()` after start-up moves what exists then out of the collector's
  sight (reference counting still frees it as usual); a full collection then walks only what was
  made since, a few milliseconds.
- Other threads hold the GIL: Streamlit's script threads, and the thread installing a new read
  model snapshot (the rebuild itself runs in a process of its own, readmodel/builder_process).
  A thread asking for the GIL waits up to the switch interval (5 ms by default) before the
  holder must hand it over, and the loop asks for it again after every wait for I/O, so each
  request could wait 5 ms while another thread ran. A shorter interval makes them hand over
  the GIL sooner, at the cost of a few more switches.
"""

from __future__ import annotations

import gc
import sys

SWITCH_INTERVAL_S = 0.0005


def keep_pauses_short() -> None:
    """Call once, when start-up is done and before serving."""
    gc.collect()  # what start-up left for the collector goes now, not frozen forever
    gc.freeze()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
