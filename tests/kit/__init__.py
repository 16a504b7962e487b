"""What the tests and benchmarks share that the product never uses: finding leaked secrets
(leaks.py), the notebooks and hidden inputs a test makes (notebooks.py), a generated class
(classes.py), and results as an earlier run left them (results.py)."""
