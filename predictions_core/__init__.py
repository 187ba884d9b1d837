"""Core library of the predictions dashboard: loading, querying, exporting, predicting."""
