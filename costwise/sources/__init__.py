"""Sources of hourly usage history: CloudWatch, a saved file, the bundled demo data.

Each source produces a `History` (see history.py); everything after that is offline and pure.
"""
