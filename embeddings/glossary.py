"""One line for each measure the app shows: the home page lists them, and the figures and
tables that show a measure use the same line as their help.

>>> sorted(GLOSSARY)[:3]
['DirectBias', 'Jaccard@k', 'RIPA']
"""

from __future__ import annotations

GLOSSARY: dict[str, str] = {
    "trustworthiness": "How far the 2-D neighbours of each point are true neighbours in the full space "
                       "(scikit-learn's trustworthiness, cosine, 10 neighbours): 1 means no 2-D neighbour is an "
                       "intruder.",
    "kNN preservation": "The share of each point's 10 nearest neighbours in the full space that stay among its 10 "
                        "nearest in the 2-D layout, averaged over the points shown.",
    "Jaccard@k": "Neighbour overlap of a label in two spaces: |A ∩ B| / |A ∪ B| of its k nearest neighbours, "
                 "searched among the labels both share; 1 means the same neighbours, 0 none in common.",
    "ordered overlap": "The mean over i = 1..k of |first i of A ∩ first i of B| / i: like Jaccard@k, but "
                       "agreement at the top of the two neighbour lists counts more.",
    "SEAT": "WEAT for sentence encoders (May et al. 2019): each word is put into bleached template sentences "
            "(\"This is X.\") and each sentence is one element of its set.",
    "DirectBias": "The mean |cos(w, g)|^c of gender-neutral words w with the bias direction g (Bolukbasi et al. "
                  "2016): 0 means no word leans along the direction.",
    "RIPA": "The relational inner product ⟨w, b⟩ of a word with the unit difference b of one word pair "
            "(Ethayarajh et al. 2019); its sign says which word of the pair w leans towards.",
}
