"""A page's head, the same on every page: title, the demo's gate, caption, the last run's flash."""

from __future__ import annotations

import streamlit as st

from embeddings.store.workspace import Workspace
from pages.common import workspace
from pages.ui.demo_panel import wait_for_demo
from pages.ui.jobs import show_flash


def open_page(title: str, page: str, caption: str | None = None) -> Workspace:
    """Draw the head of ``page`` (its key in :data:`embeddings.demo.PAGE_STAGES`): the title, then
    wait for the demo's part the page opens on, then the caption and the flash; the workspace."""
    ws = workspace()
    st.title(title)
    wait_for_demo(ws, page)
    if caption:
        st.caption(caption)
    show_flash()
    return ws
