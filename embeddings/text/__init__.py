"""Documents to tokens: corpora, preprocessing, boilerplate, bundled samples, word lists and user patterns."""
