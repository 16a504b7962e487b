"""What the tests and benchmarks share that the product never uses: finding leaked secrets
(leaks.py), and the notebooks and hidden inputs a test makes (notebooks.py)."""
