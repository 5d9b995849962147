"""Images and text in one space (#31).

- :mod:`.corpus`: an image corpus from a zip of images (PNG, JPEG, WebP, GIF's first frame) and
  an optional captions file, decoded by Pillow under :class:`~embeddings.readers.Limits`. It is a
  corpus like any other (its documents are the captions, so labels, vocabulary and the text
  features work on it) that also keeps each image, at most :data:`~.corpus.STORE_SIDE` pixels a
  side, and a thumbnail.
- :mod:`.clip`: a local CLIP-family folder (CLIP, SigLIP...) read with ``transformers``: image and
  text features in one space.
- :mod:`.spaces`: the space of an image corpus under such a model (rows: images, captions, terms).
- :mod:`.bench`: image → caption and caption → image retrieval, zero-shot classification against
  a linear probe, with paired verdicts.
- :mod:`.adapter`: customising on the corpus's pairs: a contrastive adapter on frozen vectors, and
  *Before and after* on the held-out pairs;
- :mod:`.finetune`: the same pairs fine-tuning the encoder itself (sentence-transformers' trainer).
"""
