"""The optional response-time chart of a group: p50 and p95 of each component over the window
the visitor picked, from the same latency figures as the latency badges."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from storage.status import PublicComponent

QUANTILES = {"p50": "median (p50)", "p95": "slowest 5% (p95)"}
ROW_PX = 34


def latency_rows(components: Sequence[PublicComponent], window: str) -> pd.DataFrame:
    """One row per component and quantile that has a figure over `window`."""
    rows = [
        (component.name, label, round(ms, 1))
        for component in components
        for quantile, label in QUANTILES.items()
        if (ms := component.latency.get(window, {}).get(quantile)) is not None
    ]
    return pd.DataFrame(rows, columns=["component", "quantile", "ms"])


def latency_chart(components: Sequence[PublicComponent], window: str) -> alt.Chart | None:
    """Side-by-side p50 and p95 bars per component; None when no component has a figure."""
    rows = latency_rows(components, window)
    if rows.empty:
        return None
    order = list(QUANTILES.values())
    return (
        alt.Chart(rows)
        .mark_bar()
        .encode(
            y=alt.Y("component:N", sort=None, title=None),
            yOffset=alt.YOffset("quantile:N", sort=order),
            x=alt.X("ms:Q", title="response time (ms)"),
            color=alt.Color("quantile:N", sort=order, title=None,
                            legend=alt.Legend(orient="bottom")),
            tooltip=[alt.Tooltip("component:N", title="Component"),
                     alt.Tooltip("quantile:N", title="Latency"),
                     alt.Tooltip("ms:Q", title="ms")],
        )
        .properties(height=ROW_PX * rows["component"].nunique())
    )
