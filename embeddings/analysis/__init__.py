"""What is computed on spaces: neighbours and their index, overlap, words in context, the
domain audit, stability, similarity pairs."""
