"""The demo as it builds: the Home page's "Preparing the demo" panel, and the waiting
state of a page whose demo artefacts have not landed yet. Both update by themselves (a
fragment that reads the worker's status file every second) and rerun the page when what it
waits for lands."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from embeddings.demo import Stage, own_data, waiting_for
from embeddings.demo.run import Status, read_status
from embeddings.progress import duration
from embeddings.store.workspace import Workspace

#: how often a waiting page reads the status (seconds)
POLL = 1.0
_ICONS = {"waiting": "·", "running": "▶", "done": "✓", "failed": "✗", "skipped": "–"}


def _eta(seconds: float | None) -> str:
    return f" · about {duration(seconds)} left" if seconds else ""


def _overall(status: Status) -> None:
    done = sum(s.state == "done" for s in status.stages)
    st.progress(status.fraction, text=f"{status.fraction:.0%} · {done} of {len(status.stages)} stages built"
                + _eta(status.eta))


def _table(status: Status) -> None:
    rows = [{"": _ICONS[s.state], "stage": s.title, "state": s.state,
             "progress": s.fraction if s.state == "running" else (1.0 if s.state == "done" else None),
             "time": duration(s.seconds) if s.seconds is not None else "",
             "note": s.error or (s.message if s.state == "running" else "")} for s in status.stages]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="demo_stages", column_config={
        "": st.column_config.TextColumn(width=30),
        "progress": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="percent", width="small"),
        "note": st.column_config.TextColumn(width="large")})


def _built(status: Status) -> int:
    return sum(s.state == "done" for s in status.stages) + status.finished


def demo_panel(ws: Workspace) -> None:
    """Home's panel: shown while the demo builds (and after, if a stage failed)."""
    status = read_status(ws)
    if status is None or (status.finished and all(s.state == "done" for s in status.stages)):
        return

    @st.fragment(run_every=POLL if status.alive else None)
    def panel():
        now = read_status(ws)
        if now is None:
            return
        if _built(now) != _built(status):
            st.rerun(scope="app")       # a stage landed: the page's counts, tables and sidebar follow
        title = "Preparing the demo" if now.alive else "The demo is not complete"
        with st.container(border=True):
            st.subheader(title)
            if now.alive:
                st.caption("A background process builds the demo, in the order the pages need it. Every page "
                           "works meanwhile: yours at once, the demo's as their part lands.")
                _overall(now)
            else:
                st.caption("Some stages were not built (below, with the error). The next start of the app tries "
                           "them again.")
            _table(now)
    panel()


def wait_for_demo(ws: Workspace, page: str) -> None:
    """The first call of every page: if what ``page`` (its url path, a key of
    :data:`~embeddings.demo.PAGE_STAGES`) opens on is still being built, say what it waits
    for, with the stage's progress, and rerun when it lands; the page itself is drawn below
    only if the workspace holds the user's own data."""
    if not demo_gate(ws, page):
        st.stop()


def demo_gate(ws: Workspace, page: str) -> bool:
    """:func:`wait_for_demo`'s panel; whether to draw the page too (when the workspace holds
    the user's own data, or nothing is being built)."""
    status = read_status(ws)            # a file read: the catalogue is asked only while a worker builds
    stage = waiting_for(ws, page) if status is not None and status.alive else None
    if stage is None:
        return True

    @st.fragment(run_every=POLL)
    def waiting():
        now = read_status(ws)
        if stage.done(ws) or now is None or not now.alive:
            st.rerun(scope="app")
        _waiting(stage, now)
    waiting()
    return own_data(ws)


def _waiting(stage: Stage, status: Status) -> None:
    row = status.by_key.get(stage.key)
    with st.container(border=True):
        st.markdown(f"**Waiting for the demo: {stage.title}.** This page opens on it by itself when it lands; "
                    "your own corpora and models work meanwhile.")
        if row is not None and row.state == "running":
            st.progress(row.fraction, text=f"{stage.title}: {row.message or 'working'} · {row.fraction:.0%}")
        else:
            current = status.current
            st.caption("Waiting for the stages before it" + (f"; now building: {current.title}" if current else "")
                       + ".")
        _overall(status)
