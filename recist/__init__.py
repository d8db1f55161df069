"""RECIST 1.1 and iRECIST rules: pure Python, standard library only."""
