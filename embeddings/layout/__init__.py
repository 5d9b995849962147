"""Maps: 2-D layouts (UMAP, t-SNE, PCA) with trust scores, placement into a saved map, clusters, large-map rendering data."""
