"""Embedding Explorer: the router.

Run with ``streamlit run app.py [-- --workspace DIR]`` (or ``make run``). It sets the
page config, starts the demo's builder for an empty workspace (a background process), draws the shared sidebar and
hands over to the page the user picked. Pages live in ``pages/``; every number they
show comes from the ``embeddings`` package.
"""

import embeddings  # noqa: F401  (first: it sets the offline environment before any library reads it)

# isort: split
from pathlib import Path

import streamlit as st

from embeddings.demo.run import start_worker
from embeddings.display import plural
from embeddings.layout.projection import warm_up_in_background
from pages.common import workspace
from pages.ui.jobs import guard

# A local file: an icon name (":material/...:" or an emoji) makes the browser fetch the favicon from a remote host.
FAVICON = Path(__file__).parent / "data" / "favicon.png"
st.set_page_config(page_title="Embedding Explorer", page_icon=str(FAVICON), layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/corpus.py", title="Corpora", icon=":material/library_books:", url_path="corpus"),
    st.Page("pages/models.py", title="Models", icon=":material/model_training:", url_path="models"),
    st.Page("pages/projection.py", title="Projection", icon=":material/scatter_plot:", url_path="projection"),
    st.Page("pages/neighbours.py", title="Neighbours", icon=":material/hub:", url_path="neighbours"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:", url_path="compare"),
    st.Page("pages/bias.py", title="Bias", icon=":material/balance:", url_path="bias"),
    st.Page("pages/audit.py", title="Audit", icon=":material/fact_check:", url_path="audit"),
    st.Page("pages/evaluate.py", title="Evaluate", icon=":material/leaderboard:", url_path="evaluate"),
    st.Page("pages/choose.py", title="Choose", icon=":material/emoji_events:", url_path="choose"),
    st.Page("pages/customise.py", title="Customise", icon=":material/tune:", url_path="customise"),
    st.Page("pages/context.py", title="Words in context", icon=":material/blur_on:", url_path="context"),
    st.Page("pages/images.py", title="Images", icon=":material/image:", url_path="images"),
]


@st.cache_resource(show_spinner=False)
def warm_umap() -> None:
    """Compile UMAP's numba code once per server, in the background, out of the user's way."""
    warm_up_in_background()


def ensure_demo() -> None:
    """Start the demo's background worker if this workspace wants the demo and nobody builds
    it (a cheap check; the worker itself is a separate process, see embeddings.demo.run)."""
    start_worker(workspace())


def sidebar() -> None:
    ws = workspace()
    counts = ws.counts()
    with st.sidebar:
        st.caption("Workspace")
        st.code(str(ws.root), language=None, wrap_lines=True)
        st.caption(f"{plural(counts['corpus'], 'corpus', 'corpora')} · {plural(counts['space'], 'space')} · "
                   "runs offline")


page = st.navigation(PAGES)
with guard("the app"):
    warm_umap()
    ensure_demo()
    sidebar()
with guard(page.title):
    page.run()
