"""The starter suite: ten small Python cases over two repositories it builds itself (`python -m evals.starter`)."""
