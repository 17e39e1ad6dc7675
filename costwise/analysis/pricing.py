"""`costwise pricing show` and `pricing update`: the rates in use, and a refresh's changes, as results."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from costwise.pricing import ENGINES, NodeType, PriceBook, normalize_engine

CONFIDENCE_ORDER = ("low", "medium", "high", "unknown")


@dataclass
class PriceRow:
    region: str
    engine: str
    storage_per_gb_hour: float
    ecpu_per_million: float
    min_storage_gb: float
    sources: dict[str, dict[str, str]]
    nodes: list[NodeType] = field(default_factory=list)

    @property
    def as_of(self) -> str:
        return max(s["as_of"] for s in self.sources.values())

    @property
    def confidence(self) -> str:
        """The weakest of the row's rates."""
        return min((s["confidence"] for s in self.sources.values()), key=CONFIDENCE_ORDER.index)


@dataclass
class PriceListing:
    file: Path
    bytes_per_gb: float
    hours_per_month: float
    rows: list[PriceRow]
    with_nodes: bool = False

    def to_dict(self) -> dict:
        rows = []
        for row in self.rows:
            data = {"region": row.region, "engine": row.engine, "storage_per_gb_hour": row.storage_per_gb_hour,
                    "ecpu_per_million": row.ecpu_per_million, "min_storage_gb": row.min_storage_gb, "sources": row.sources}
            if self.with_nodes:
                data["nodes"] = [{**asdict(n), "reserved": [asdict(r) for r in n.reserved],
                                  "extended_support": dict(n.extended_support)} for n in row.nodes]
            rows.append(data)
        return {"file": str(self.file), "bytes_per_gb": self.bytes_per_gb, "hours_per_month": self.hours_per_month, "rates": rows}


def list_prices(book: PriceBook, regions: list[str] | None, engines: list[str] | None, with_nodes: bool) -> PriceListing:
    rows = []
    for region in regions or book.regions:
        for engine in [normalize_engine(e) for e in engines] if engines else list(ENGINES):
            rates = book.rates(region, engine)
            rows.append(PriceRow(region, engine, rates.storage_per_gb_hour, rates.ecpu_per_million, rates.min_storage_gb,
                                 {k: vars(v) for k, v in rates.sources.items()},
                                 book.node_types(region, engine) if with_nodes else []))
    return PriceListing(book.path, book.bytes_per_gb, book.hours_per_month, rows, with_nodes)
