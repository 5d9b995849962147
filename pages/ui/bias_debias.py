"""The Bias page's hard-debias tab: make a debiased child, then read before and after honestly."""

import numpy as np
import pandas as pd
import streamlit as st

from embeddings import bias
from embeddings.figures import debias_bars
from embeddings.glossary import GLOSSARY
from embeddings.store.cards import SpaceCard
from embeddings.store.workspace import Workspace
from pages.common import space, workspace_root
from pages.ui.bias_weat import test_json, weat_cell
from pages.ui.defaults import remember_made
from pages.ui.jobs import flash, guard
from pages.ui.text import md, md_list, plotly_chart


@st.cache_data(max_entries=16, show_spinner="Measuring what debiasing left…")
def debias_report(root: str, parent_id: str, child_id: str) -> dict:
    return bias.debias_report(space(parent_id), space(child_id)).to_dict()


def debias_tab(ws: Workspace, choices: dict[str, str], cards: dict[str, SpaceCard]) -> None:
    """Debias a word space into a new one; compare any debiased space with its parent."""
    names = list(choices)
    g = bias.bolukbasi_gender()
    st.caption("Hard debiasing (Bolukbasi et al. 2016): the gender direction (PCA of the definitional pairs) is "
               "removed from every word outside the gender-specific list (neutralise), then each equalise pair is "
               "made symmetric about the neutral subspace (equalise). The result is a new space; the original "
               "stays as it was.")
    word_spaces = [n for n in names if not cards[n].is_sentence_encoder and not cards[n].is_debiased
                   and cards[n].is_terms]
    d1, d2, d3 = st.columns([3, 3, 2])
    largest = max(word_spaces, key=lambda n: cards[n].vocabulary) if word_spaces else None
    source = d1.selectbox("Space to debias", word_spaces, key="debias_source",
                          index=word_spaces.index(largest) if largest else 0) if word_spaces else None
    new_name = d2.text_input("New space name", value=f"{source}-debiased" if source else "", key="debias_name")
    d3.write("")
    go_ = d3.button("Debias", icon=":material/balance:", key="debias_go", disabled=source is None)
    with st.expander("Word lists used"):
        st.caption(g["about"])
        st.markdown(f"**Definitional pairs** ({len(g['definitional_pairs'])}): "
                    + ", ".join(f"{a}/{b}" for a, b in g["definitional_pairs"]))
        st.markdown(f"**Equalise pairs** ({len(g['equalize_pairs'])}): "
                    + ", ".join(f"{a}/{b}" for a, b in g["equalize_pairs"]))
        specific = bias.gender_specific()
        st.markdown(f"**Gender-specific words, never neutralised** ({len(specific):,}, Bolukbasi et al.'s full "
                    f"learned list): " + ", ".join(specific[:150]) + f" … and {len(specific) - 150:,} more "
                    "(data/wordsets/bolukbasi2016_gender.json, `specific_full`)")
    if go_ and source:
        with guard("debiasing"), st.spinner(f"Debiasing {md(source)}…"):
            new = bias.debias_space(ws, choices[source], new_name)
            info = new.provenance["debias"]
            remember_made(new.name)
            flash(f"Saved {md(new.name)}: {info['neutralised']:,} words neutralised, "
                  f"{len(info['equalised_pairs'])} pairs equalised.")
            st.rerun()

    debiased = [n for n in names if cards[n].is_debiased]
    if not debiased:
        st.info("No debiased space yet: pick one above and press Debias to see before and after.")
    else:
        pick = st.selectbox("Before and after", debiased, key="debias_view")
        child = space(choices[pick])
        parent_id = child.provenance.get("parent")
        parent_name = next((n for n, i in choices.items() if i == parent_id), None)
        if parent_name is None:
            st.warning(f"The parent of {md(pick)} ({md(child.provenance.get('parent_name'))}) is no longer in the "
                       "workspace.")
        else:
            with guard("the before/after view"):
                rep = debias_report(workspace_root(), parent_id, choices[pick])
                m = st.columns(3)
                m[0].metric(f"DirectBias before ({md(parent_name)})", f"{rep['direct_bias_before']:.4f}",
                            help=GLOSSARY["DirectBias"])
                m[1].metric("after, along the removed direction", "0 by construction",
                            f"{rep['direct_bias_after_removed_direction']:.0e}", delta_color="off", delta_arrow="off",
                            help="Hard debiasing takes this direction out of every neutral word, so this reading "
                                 "is zero whatever bias is left. It is shown only to say so.")
                m[2].metric("after, along a recomputed direction", f"{rep['direct_bias_after_recomputed_direction']:.4f}",
                            help="The same definitional pairs, PCA'd again in the debiased space: what a new "
                                 "measurement of the gender direction finds.")
                st.caption(f"DirectBias (c = 1) over the {rep['professions']:,} gender-neutral professions of "
                           "Bolukbasi et al. found in both spaces.")
                res = rep["residual_clustering"]
                if res:
                    k = st.columns(3)
                    k[0].metric("k-means accuracy before", f"{res['accuracy_before']:.3f}")
                    k[1].metric("k-means accuracy after", f"{res['accuracy_after']:.3f}",
                                f"{res['accuracy_after'] - res['accuracy_before']:+.3f}", delta_color="inverse")
                    k[2].metric("words clustered", f"{res['n']:,}",
                                f"of {res['candidates']:,} candidates", delta_color="off", delta_arrow="off")
                    st.caption(
                        f"Residual bias (Gonen & Goldberg 2019): the {res['per_end']:,} words most biased towards "
                        f"each end ({md(res['ends'][0])} · {md(res['ends'][1])}) in the original space, clustered "
                        "with k-means (k = 2). 0.5 is chance; an accuracy that stays high after debiasing means "
                        "the words still group by gender, only no longer along the removed direction. Examples: "
                        + md_list(res["examples"][0][:5]) + " · " + md_list(res["examples"][1][:5]))
                else:
                    st.caption(f"Clustering check not run: {md(rep['residual_problem'])}")
                rows = []
                for t in bias.builtin_tests():
                    for n in (parent_name, pick):
                        r = weat_cell(workspace_root(), choices[n], test_json(t), 1, bias.PERMUTATIONS, 0,
                                      bias.MAX_MISSING, False)
                        rows.append({"test": t.id, "space": n, "d": r.effect_size if not isinstance(r, str) else np.nan,
                                     "p": bias.format_p(r.p_value, r.permutations) if not isinstance(r, str)
                                     else "refused"})
                ba = pd.DataFrame(rows)
                fig = debias_bars(ba, parent_name, pick)
                plotly_chart(fig, width="stretch", key="debias_bars")
                wide = ba.assign(d=ba["d"].round(3)).pivot(index="test", columns="space", values=["d", "p"])
                wide.columns = [f"{n} · {v}" for v, n in wide.columns]
                st.dataframe(wide.reset_index(), hide_index=True, width="stretch", key="debias_table")
