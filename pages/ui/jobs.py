"""Long work and errors on a page: progress with an ETA, Cancel, error display, flash messages.

Not a page.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

import streamlit as st

from embeddings.errors import EmbeddingsError, disk_full
from embeddings.progress import Clock, duration
from pages.ui.text import md

log = logging.getLogger("embeddings.app")


@contextlib.contextmanager
def guard(what: str = "this page") -> Iterator[None]:
    """Show a user mistake as ``st.error`` and a bug as a short message (traceback to the log).

    Streamlit's own control flow (rerun, stop) derives from BaseException and passes through.
    """
    try:
        yield
    except EmbeddingsError as exc:  # messages quote names, words and file names: text, not Markdown
        st.error(md(str(exc)), icon=":material/error:")
    except Exception as exc:  # a bug: never a traceback in front of a stakeholder
        from pages.common import workspace_root

        if (full := disk_full(exc, workspace_root())) is not None:      # the user's to fix, not a bug
            st.error(md(str(full)), icon=":material/hard_drive:")
            return
        log.exception("error in %s", what)
        st.error(
            f"Something went wrong in {md(what)} ({type(exc).__name__}: {md(exc)}). "
            "Nothing saved in the workspace was changed; the details are in the server log.",
            icon=":material/bug_report:",
        )



def progress_reporter(label: str) -> tuple[Callable[[float, str], None], Callable[[], None]]:
    """A progress bar for the core's ``progress(fraction, message)`` callbacks: the stage (the
    message), the percentage (never going back) and, once it can be estimated, the time left
    at the current stage's pace (:class:`~embeddings.progress.Clock`). ``progress.clock.seconds``
    is the whole time, for the message that ends the job.

    Returns ``(progress, done)``; ``done()`` removes the bar. The label and the messages are
    plain text (they name spaces and files): both are escaped here.
    """
    bar = st.progress(0.0, text=md(label))
    clock = Clock()

    def progress(fraction: float, message: str) -> None:
        fraction, left = clock.update(fraction, message)
        eta = "" if left is None else f" · about {duration(left)} left"
        bar.progress(fraction, text=f"{md(label)}: {md(message)} · {fraction:.0%}{eta}")

    progress.clock = clock      # the whole time, for the message that ends the job
    return progress, bar.empty


@contextlib.contextmanager
def cancellable(key: str, what: str, signature: object = None) -> Iterator[None]:
    """Run a long job with a Cancel button beside its progress bar.

    Pressing Cancel reruns the page; Streamlit stops this run at its next call (the next
    progress update), so the job ends there and nothing is saved or cached. For a job that
    starts by itself on every run (a projection, the WEAT grid, an audit), give its settings
    as ``signature``: while they stay the same, the page says the job was cancelled and
    waits for *Run again* instead of starting it anew. A job started by a button needs none
    (the rerun does not press the button again); the page shows a one-time notice.
    """
    state_key = f"_cancelled_{key}"
    sig = repr(signature)
    if signature is not None and st.session_state.get(state_key) == sig:
        st.info(f"{md(what)} was cancelled; nothing was saved. Change the settings, or run it again.",
                icon=":material/cancel:")
        if st.button("Run again", key=f"{key}_again", icon=":material/replay:"):
            st.session_state.pop(state_key, None)
            st.rerun()
        st.stop()

    def cancel() -> None:
        if signature is not None:
            st.session_state[state_key] = sig
        else:
            flash(f"{md(what)} was cancelled; nothing was saved.")

    slot = st.empty()
    slot.button("Cancel", key=f"{key}_cancel", icon=":material/cancel:", on_click=cancel,
                help=f"Stop {what[:1].lower() + what[1:]}; nothing is saved.")
    try:
        yield
    finally:
        slot.empty()


FLASH = "flash_message"


def flash(message: str) -> None:
    """Keep a success message across ``st.rerun()`` (shown once by :func:`show_flash`)."""
    st.session_state[FLASH] = message


def show_flash() -> None:
    message = st.session_state.pop(FLASH, None)
    if message:
        st.success(message, icon=":material/check_circle:")
