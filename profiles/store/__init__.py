"""Profile store: load points (one row per load point of a serving configuration) from the shipped data and the
user's directories into one pandas DataFrame, validate them, apply precedence (measured > published > estimated),
select server versions and group curves.

points.py holds the record types (ProfilePoint, Curve) and the file columns; read.py parses and validates one
CSV; store.py is the DataFrame-backed ProfileStore; write.py writes the format; published.py imports the shared
published measurements. Imports catalog/ and profiles.errors; pandas only in read.py, frame.py and store.py.
"""
