"""Prices: the validated pricing.yaml (book), the Price List parser (pricelist), and the refresh (update).

Only `book` is needed to price anything; the other two serve `costwise pricing update`.
"""

from costwise.pricing.book import (  # noqa: F401  (the package's public names)
    ENGINES,
    NodeType,
    PriceBook,
    Rates,
    RateSource,
    ReservedOffering,
    load_pricing,
    normalize_engine,
    validate_pricing,
)
