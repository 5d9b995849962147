"""Model families, one module each, behind one entry point per job.

Every function here makes an :class:`~embeddings.space.EmbeddingSpace` and saves it in
the workspace (nothing is saved if the job fails or is cancelled):

- :func:`train_space`: Word2Vec, FastText (gensim) or the PPMI+SVD baseline on a corpus;
- :func:`add_pretrained`: MiniLM or a local sentence-transformers folder over a unit of a
  corpus, or GloVe 6B 50-d;
- :func:`import_space`: a vectors file (word2vec text/binary, GloVe, fastText .vec);
- :func:`reduce_space`: PCA to k dimensions, a derived space recording its parent.

Backends are imported lazily: loading the CLI or a page does not import torch.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from embeddings.store.cards import SENTENCE_ENCODER, TRAIN_FAMILIES
from embeddings.store.space_store import load_space, register_embedder, save_space
from embeddings.store.workspace import Workspace
from embeddings.text.corpus import get_corpus

from ..errors import InputError
from ..progress import Progress, no_progress
from ..readers import Limits
from ..space import EmbeddingSpace, Unit

PRETRAINED = ("minilm", "glove-6b-50d")


# The families whose saved spaces can embed unseen texts. The factories import their
# backend lazily, so loading a space of another family never imports gensim or torch.
def _fasttext_embedder(folder: Path, provenance: dict):
    from .gensim_models import fasttext_embedder

    return fasttext_embedder(folder, provenance)


def _sentence_embedder(folder: Path, provenance: dict):
    from .sentence import sentence_embedder

    own = folder / "model"
    return sentence_embedder(provenance, str(own) if own.is_dir() else None)


def _static_embedder(folder: Path, provenance: dict):
    from .distil import static_embedder

    return static_embedder(folder / "model")


def _endpoint_embedder(folder: Path, provenance: dict):
    from .endpoint import endpoint_embedder

    return endpoint_embedder(folder, provenance)


def _clip_embedder(folder: Path, provenance: dict):
    from embeddings.images.spaces import clip_embedder

    return clip_embedder(folder, provenance)


register_embedder("fasttext", _fasttext_embedder)
register_embedder("clip", _clip_embedder)
register_embedder("endpoint", _endpoint_embedder)
register_embedder(SENTENCE_ENCODER, _sentence_embedder)
register_embedder("model2vec", _static_embedder)


def train_space(ws: Workspace, corpus: str, family: str, name: str, *, progress: Progress = no_progress,
                on_epoch=None, **settings) -> EmbeddingSpace:
    """Train a model on a workspace corpus and save it as a space.

    ``settings`` are the fields of :class:`~embeddings.models.gensim_models.TrainParams`
    (word2vec, fasttext) or :class:`~embeddings.models.count.CountParams` (ppmi-svd).
    ``on_epoch(report)`` is called after each gensim epoch and may raise
    :class:`~embeddings.errors.Cancelled`.
    """
    name = ws.check_new_name("space", name)
    c = get_corpus(ws, corpus)
    if family in ("word2vec", "fasttext"):
        from .gensim_models import TrainParams, train

        allowed = set(TrainParams.__dataclass_fields__)
        unknown = set(settings) - allowed
        if unknown:
            raise InputError(f"Unknown settings for {family}: {', '.join(sorted(unknown))}.")
        space, extra = train(c, family, TrainParams(**settings), name, on_epoch=on_epoch)
        progress(0.97, "Saving")
        return save_space(ws, space, name, extra_files=extra)
    if family == "ppmi-svd":
        from .count import CountParams, train_ppmi_svd

        allowed = set(CountParams.__dataclass_fields__)
        settings = {k: v for k, v in settings.items() if k in allowed}
        space = train_ppmi_svd(c, CountParams(**settings), name, progress=progress)
        return save_space(ws, space, name)
    raise InputError(f"Unknown model {family!r}; expected one of {', '.join(TRAIN_FAMILIES)}.")


def add_pretrained(ws: Workspace, model: str, name: str, *, corpus: str | None = None, unit: Unit = "term",
                   top: int | None = None, options: dict | None = None, progress: Progress = no_progress
                   ) -> EmbeddingSpace:
    """A pretrained model as a space.

    ``glove-6b-50d``: the GloVe vocabulary (``top`` most frequent words, default all 400k).
    ``minilm`` or a local model folder: encodes one ``unit`` (term, sentence, document) of
    ``corpus`` (the ``top`` most frequent terms, or the first ``top`` sentences/documents);
    ``options``: a plain transformers folder's pooling and normalisation, prompts
    (:func:`~embeddings.models.sentence.load_encoder`).
    """
    name = ws.check_new_name("space", name)
    extras: dict = {}                         # a document space's chunks (retrieval's max-sim)
    if model == "glove-6b-50d":
        from .glove import load_glove

        progress(0.1, "Reading GloVe 6B 50-d")
        space = load_glove(name, top)
    else:
        from .sentence import encode_corpus

        if not corpus:
            raise InputError("A sentence encoder needs a corpus to encode (its terms, sentences or documents).")
        space = encode_corpus(get_corpus(ws, corpus), name, model=model, unit=unit, top=top, extras=extras, options=options,
                              progress=lambda f, m: progress(0.05 + 0.9 * f, m))
    progress(0.97, "Saving")
    return save_space(ws, space, name, extra_files=extras)


def import_space(ws: Workspace, path: Path | str, fmt: str, name: str, *, limits: Limits | None = None,
                 display_name: str | None = None) -> EmbeddingSpace:
    from .vectors import import_vectors

    name = ws.check_new_name("space", name)
    return save_space(ws, import_vectors(path, fmt, name, limits=limits, display_name=display_name), name)


def import_upload(ws: Workspace, data: bytes, filename: str, fmt: str, name: str, *,
                  limits: Limits | None = None) -> EmbeddingSpace:
    from .vectors import import_bytes

    name = ws.check_new_name("space", name)
    return save_space(ws, import_bytes(data, filename, fmt, name, limits=limits, tmp_dir=ws.root / ".tmp"), name)


def reduce_space(ws: Workspace, source: str, dim: int, name: str, *, seed: int = 1) -> EmbeddingSpace:
    """PCA of a space down to ``dim`` dimensions, saved as a derived space."""
    from sklearn.decomposition import PCA

    name = ws.check_new_name("space", name)
    parent = load_space(ws, source)
    if not 1 <= dim < parent.dim:
        raise InputError(f"The new dimension must be between 1 and {parent.dim - 1} (the parent has {parent.dim}).")
    if dim > len(parent):
        raise InputError(f"{parent.name} has only {len(parent)} labels; PCA cannot keep {dim} dimensions.")
    pca = PCA(n_components=dim, random_state=seed)
    reduced = pca.fit_transform(parent.vectors)
    space = parent.derive(name, reduced, how=f"pca({dim})",
                          explained_variance=round(float(pca.explained_variance_ratio_.sum()), 6),
                          params={**parent.provenance.get("params", {}), "pca_dim": dim})
    return save_space(ws, space, name)


def add_pooled(ws: Workspace, source: str, corpus: str, method: str, name: str) -> EmbeddingSpace:
    """A word space pooled over each document of a corpus (``mean`` or ``sif``), saved as a
    document space (see :mod:`embeddings.models.docspaces`)."""
    from embeddings.models.docspaces import pool_space

    name = ws.check_new_name("space", name)
    return save_space(ws, pool_space(load_space(ws, source), get_corpus(ws, corpus), method, name), name)


def add_baseline(ws: Workspace, corpus: str, name: str, *, kind: str = "word", ngrams: tuple[int, int] | None = None,
                 lsa: int | None = None, seed: int = 0) -> EmbeddingSpace:
    """The TF-IDF baseline of a corpus as a dense document space (LSA to ``lsa`` dimensions)."""
    from embeddings.models.docspaces import LSA_DIM, tfidf_space

    name = ws.check_new_name("space", name)
    space = tfidf_space(get_corpus(ws, corpus), name, kind=kind, ngrams=ngrams, lsa=lsa or LSA_DIM, seed=seed)
    return save_space(ws, space, name)


def finetune_space(ws: Workspace, base: str, corpus: str, name: str, *, progress: Progress = no_progress,
                   **settings) -> tuple[EmbeddingSpace, dict]:
    """Fine-tune the encoder ``base`` (see :func:`~embeddings.models.sentence.encoder_folder`)
    on ``corpus`` and save the result as a document space of that corpus that keeps its
    model folder (``model/``). ``settings`` are the fields of
    :class:`~embeddings.models.finetune.FinetuneParams`. Returns ``(space, run record)``;
    nothing is saved if the run fails or is cancelled."""
    from ..progress import stages
    from .finetune import FinetuneParams, finetune, stage_weights
    from .sentence import encode_corpus, encoder_folder, forget_encoder

    name = ws.check_new_name("space", name)
    unknown = set(settings) - set(FinetuneParams.__dataclass_fields__)
    if unknown:
        raise InputError(f"Unknown fine-tuning settings: {', '.join(sorted(unknown))}.")
    base_path = encoder_folder(ws, base)
    c = get_corpus(ws, corpus)
    params = FinetuneParams(**settings)
    part = stages(progress, stage_weights(c, params))        # the bar moves as the time goes
    with ws.scratch("finetune") as tmp:        # held: another process's sweep leaves it alone
        qset = None
        if params.queries:                      # retrieval: the set's training queries teach
            from embeddings.evaluate.qrels import load_set

            qset = load_set(ws, params.queries)
        run = finetune(base_path, c, params, Path(tmp), progress=part["Fine-tuning"], qset=qset)
        try:
            extras: dict = {}
            space = encode_corpus(c, name, model=str(run.model_dir), unit="document", extras=extras,
                                  progress=part["Encoding the documents"])
        finally:
            forget_encoder(run.model_dir)
        record = run.record(base if base == "minilm" else str(base_path), params)
        space.provenance.update({"model": f"fine-tuned {params.method} of {base}", "model_path": None,
                                 "finetune": record})
        part["Saving"](0.0, "the space and its model")
        saved = save_space(ws, space, name, extra_files=extras, extra_dirs={"model": run.model_dir})
        return _with_own_model(ws, saved), record


def distil_space(ws: Workspace, base: str, name: str, *, dims: int | None = None, corpus: str | None = None,
                 words: bool = True, progress: Progress = no_progress) -> EmbeddingSpace:
    """Distil the encoder ``base`` into a static model (model2vec) and save it as a space
    that keeps the model (``model/``): the documents of ``corpus`` (whose words join the
    vocabulary, unless ``words`` is False) or, without one, the model's whole-word vocabulary."""
    from ..progress import stage
    from .distil import DIMS, distil, forget_static, static_space
    from .sentence import encoder_folder

    name = ws.check_new_name("space", name)
    base_path = encoder_folder(ws, base)
    c = get_corpus(ws, corpus) if corpus else None
    with ws.scratch("distil") as tmp:          # held: another process's sweep leaves it alone
        folder, record = distil(base_path, Path(tmp), dims=dims or DIMS[0], corpus=c, words=words,
                                progress=stage(progress, 0.0, 0.85, "Distilling: "))
        record["base"] = base if base == "minilm" else str(base_path)
        space = static_space(folder, name, record, corpus=c, progress=stage(progress, 0.85, 0.97, "Encoding: "))
        progress(0.97, "Saving")
        space = save_space(ws, space, name, extra_dirs={"model": folder})
        forget_static(folder)
        return _with_own_model(ws, space)


def _with_own_model(ws: Workspace, space: EmbeddingSpace) -> EmbeddingSpace:
    """A space just saved with its model folder embeds through the saved copy (the
    temporary one it was made from is about to go)."""
    from embeddings.store.space_store import KIND, embedder_for

    return dataclasses.replace(space, embedder=embedder_for(ws.get(KIND, space.id).path, space.provenance))
