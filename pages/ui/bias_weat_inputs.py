"""The WEAT / SEAT tab's inputs: its settings, and a custom test typed or uploaded."""

import json

import streamlit as st

from embeddings import bias
from embeddings.errors import InputError
from embeddings.store.workspace import Workspace
from embeddings.text.wordlists import parse_words
from pages.ui.jobs import flash, guard
from pages.ui.options import option_number, option_slider
from pages.ui.text import md

#: the key of a test saved on the previous run (it joins the selection)
NEW_TEST = "_bias_new_test"
W = bias.WeatParams


def weat_settings() -> tuple[int, int, int, float, bool, int, str]:
    """``(ddof, permutations, seed, max_missing, fallback, resamples, seat_unit)`` from the Settings expander."""
    with st.expander("Settings", icon=":material/tune:"):
        s1, s2, s3, s4, s5 = st.columns(5)
        ddof = s1.radio("Standard deviation", [1, 0], key="bias_ddof", horizontal=True,
                        format_func=lambda d: "sample (n−1)" if d else "population (n)",
                        help="Caliskan et al. use the sample std; WEFE the population std.")
        permutations = int(option_number("Sampled permutations", W, "permutations", key="bias_perm", where=s2))
        seed = int(option_number("Seed", W, "seed", key="bias_seed", where=s3))
        max_missing = option_slider("Refuse above this share unknown", W, "max_missing", key="bias_missing", where=s4)
        fallback = s5.toggle("Lowercase fallback", key="bias_fallback",
                             help="Cased spaces: try the lowercase word when the word as written is missing. "
                                  "Uncased spaces are always looked up in lowercase.")
        b1, b2, _ = st.columns([1, 2, 2])
        resamples = int(option_number("Bootstrap resamples", W, "bootstrap", key="bias_boot", where=b1,
                                      help="For the 95% interval on d: the words of each of X, Y, A and B are "
                                           "drawn again with replacement. 0: no interval."))
        seat_unit = b2.radio("SEAT permutes", bias.SEAT_UNITS, horizontal=True, key="bias_seat_unit",
                             format_func=lambda u: {"word": "whole words (default)",
                                                    "sentence": "single sentences (May et al.)"}[u],
                             help="A word's six template sentences are not independent of each other, so by "
                                  "default they move together between X and Y; May et al. (2019) moved single "
                                  "sentences, which makes p too small.")
    return int(ddof), permutations, seed, float(max_missing), bool(fallback), resamples, seat_unit


def custom_test_form(ws: Workspace) -> None:
    """Four word sets typed, or a JSON test uploaded: saved into the workspace."""
    with st.expander("Custom test", icon=":material/add_circle:"):
        st.caption("Four word sets, one word per line or comma-separated; or upload a JSON test in the format of "
                   "data/wordsets/weat_caliskan2017.json (\"targets\" and \"attributes\", two named lists each).")
        with st.form("bias_custom", border=False):
            title = st.text_input("Name", placeholder="pets-vs-pests")
            cols = st.columns(4)
            sets = []
            for col, role, hint in zip(cols, "XYAB", ("target X", "target Y", "attribute A", "attribute B")):
                set_name = col.text_input(f"{role}: set name", value=hint, key=f"bias_c_{role}_name")
                words = col.text_area(f"{role}: words", key=f"bias_c_{role}_words", height=140)
                sets.append((set_name, parse_words(words)))
            upload = st.file_uploader("or a JSON test", type=["json"], key="bias_c_upload")
            submitted = st.form_submit_button("Save test", icon=":material/save:")
        if submitted:
            with guard("saving the test"):
                if upload is not None:
                    from embeddings.readers import decode

                    try:
                        obj = json.loads(decode(upload.name, upload.getvalue())[0])
                    except json.JSONDecodeError as exc:
                        raise InputError(f"{upload.name} is not valid JSON (line {exc.lineno}: {exc.msg}).") from exc
                    if isinstance(obj, dict) and "tests" in obj:
                        obj = obj["tests"][0]
                    parsed = bias.WeatTest.from_json(obj)
                    new = bias.custom_test(parsed.title, *((s.name, s.words) for s in parsed.sets))
                else:
                    new = bias.custom_test(title or "custom", *sets)
                saved = bias.save_test(ws, new, title or new.title)
                st.session_state[NEW_TEST] = saved.id
                flash(f"Saved the test {md(saved.id)}.")
                st.rerun()
