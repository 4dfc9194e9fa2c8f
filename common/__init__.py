"""The vocabulary every Eddy component shares: types, chunks, messages, plans, errors.

Imports only pyarrow, numpy and the standard library.
"""
