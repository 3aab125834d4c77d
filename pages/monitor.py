"""One monitor up close, at its own address: /monitor?slug=<slug>."""

from ui.auth import require_admin

require_admin()

from ui.monitor_page import render_monitor_page  # noqa: E402

render_monitor_page()
