"""One monitor up close, at its own address: /monitor?slug=<slug>."""

from ui.auth import require_role

require_role()  # every role sees it

from ui.monitor_page import render_monitor_page  # noqa: E402

render_monitor_page()
