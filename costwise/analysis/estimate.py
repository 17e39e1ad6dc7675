"""The analysis stage of `estimate` and `report`: History + prices + settings -> Report.

Deterministic and offline: the same history gives the same report. Renderers read Report only.
The projection covers `settings.horizon_hours` (730 by default, AWS's month); `projected_month`
is that projection as a monthly rate (x hours_per_month / horizon_hours): budgets are monthly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from statistics import NormalDist

import numpy as np

from costwise.errors import CostwiseError
from costwise.fmt import iso_utc, money
from costwise.model.commitment import CommitmentAdvice, net_cost, recommend_commitment
from costwise.model.cost import Cost, cost_of_hours, hourly_bill
from costwise.model.drivers import Drivers, DriverSettings, analyse_drivers
from costwise.model.forecast import Projection, project_month
from costwise.model.settings import SizingSettings
from costwise.model.sizing import ACTION_ORDER, LimitAdvice, recommend_limits
from costwise.pricing import PriceBook
from costwise.usage import EnvHistory, History, Window, busiest_ecpu_per_second, mean_ecpu_per_second


@dataclass
class EnvironmentResult:
    history: EnvHistory
    window: Window
    settings: SizingSettings = field(default_factory=SizingSettings)
    hours_per_month: float = 730.0
    bytes_per_gb: float = float(2**30)  # replaced by the rates' unit once priced
    savings_plan_eligible: bool = False  # a Database Savings Plan can cover it (serverless Valkey)
    hours_with_data: int = 0
    usage: dict[str, dict[str, float | None]] | None = None
    window_cost: Cost | None = None
    projection: Projection | None = None
    advice: LimitAdvice | None = None
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    low_confidence_rates: bool = False
    alternatives: dict[str, Any] = field(default_factory=dict)
    drivers: Drivers | None = None  # None: not read for this cache (--drivers), or a file from before them

    @property
    def env(self) -> str:
        return self.history.env

    @property
    def budget(self) -> float | None:
        return self.history.budget

    @property
    def hours(self) -> int:
        return self.window.hours

    @property
    def projected_month(self) -> dict[str, float] | None:
        """The projection as a monthly rate: what budgets are compared with."""
        if self.projection is None:
            return None
        return {**monthly_rate(self.projection, self.settings.horizon_hours, self.hours_per_month), "eligible": self.savings_plan_eligible}

    @property
    def over_budget(self) -> bool:
        month = self.projected_month
        return self.budget is not None and month is not None and month["total"] > self.budget

    def to_dict(self) -> dict[str, Any]:
        h = self.history
        limits = h.limits
        advice = self.advice
        projection = self.projection
        return {
            "env": h.env,
            "cache": h.cache,
            "engine": h.engine,
            "region": h.region,
            "window": {"start": iso_utc(self.window.start), "end": iso_utc(self.window.end), "hours": self.hours, "hours_with_data": self.hours_with_data},
            "usage": self.usage,
            "cost": {
                "window": self.window_cost.to_dict() if self.window_cost else None,
                "projected": (
                    {**projection.cost.to_dict(), "low": projection.low, "high": projection.high, "confidence": projection.confidence,
                     "hours": self.settings.horizon_hours, "interval": self.settings.interval}
                    if projection
                    else None
                ),
                "projected_month": self.projected_month,
            },
            "limits": {
                "current": {
                    "max_storage_gb": limits.max_storage_gb,
                    "max_ecpu_per_second": limits.max_ecpu_per_second,
                    "min_storage_gb": limits.min_storage_gb,
                    "min_ecpu_per_second": limits.min_ecpu_per_second,
                    "source": limits.source,
                },
                "recommended": (
                    {"max_storage_gb": advice.storage.recommended, "max_ecpu_per_second": advice.ecpu.recommended} if advice else None
                ),
                "action": advice.action if advice else None,
                "reasons": list(advice.reasons) if advice else [],
                "ecpu_minimum": advice.ecpu_minimum if advice else None,
                "replay": advice.replay if advice else None,
            },
            "ceiling": {
                "current": advice.ceiling_current.to_dict() if advice else None,
                "recommended": advice.ceiling_recommended.to_dict() if advice else None,
            },
            "forecast": (
                {
                    "history_days": projection.history_days,
                    "storage_daily_growth": projection.storage.daily_growth,
                    "ecpu_daily_growth": projection.ecpu.daily_growth,
                    "level_weights": {"storage": dict(projection.storage.level_weights), "ecpu": dict(projection.ecpu.level_weights)},
                    "notes": list(projection.notes),
                }
                if projection
                else None
            ),
            "alternatives": dict(self.alternatives),
            "drivers": self.drivers.to_dict() if self.drivers is not None else None,
            "budget": {"monthly": self.budget, "exceeded": self.over_budget} if self.budget is not None else None,
            "warnings": list(self.warnings),
            "error": self.error,
        }


def monthly_rate(projection: Projection, horizon_hours: int, hours_per_month: float) -> dict[str, float]:
    scale = hours_per_month / horizon_hours
    return {**{k: v * scale for k, v in projection.cost.to_dict().items()}, "low": projection.low * scale, "high": projection.high * scale}


@dataclass
class Report:
    as_of: datetime
    generated_at: datetime
    window: Window
    pricing_file: str
    pricing_region: str
    source: str
    environments: list[EnvironmentResult]
    settings: SizingSettings = field(default_factory=SizingSettings)
    hours_per_month: float = 730.0
    budget: float | None = None
    savings_plan: "SavingsPlanView | None" = None
    notes: list[str] = field(default_factory=list)
    detail_limit: int = 25  # environments shown in full (charts included) in Markdown and HTML
    group_by: str = "auto"  # the fleet table's groups: account | region | tag:NAME | none | auto (see grouping())
    suggestion: Any = None  # with --iac: costwise.analysis.suggest.Suggestion

    @property
    def window_start(self) -> datetime:
        return self.window.start

    @property
    def window_end(self) -> datetime:
        return self.window.end

    @property
    def horizon_hours(self) -> int:
        return self.settings.horizon_hours

    @property
    def interval(self) -> float:
        return self.settings.interval

    @property
    def ok(self) -> list[EnvironmentResult]:
        return [e for e in self.environments if e.error is None]

    @property
    def failed(self) -> list[EnvironmentResult]:
        return [e for e in self.environments if e.error is not None]

    def total_window(self) -> Cost:
        return sum((e.window_cost for e in self.ok if e.window_cost), Cost(0.0, 0.0))

    def total_projection(self) -> dict[str, float]:
        """The whole horizon, summed over environments (low/high: the sum of each one's bounds)."""
        projections = [e.projection for e in self.ok if e.projection]
        cost = sum((p.cost for p in projections), Cost(0.0, 0.0))
        return {**cost.to_dict(), "low": sum(p.low for p in projections), "high": sum(p.high for p in projections)}

    def total_month(self) -> dict[str, float]:
        scale = self.hours_per_month / self.horizon_hours
        return {k: v * scale for k, v in self.total_projection().items()}

    @property
    def over_budget(self) -> list[str]:
        """Names of what exceeds its budget: environments, and 'total' for --budget (both monthly)."""
        names = [e.env for e in self.ok if e.over_budget]
        if self.budget is not None and self.total_month()["total"] > self.budget:
            names.append("total")
        return names

    def top_action(self) -> EnvironmentResult | None:
        candidates = [e for e in self.ok if e.advice and e.advice.action != "keep"]
        if not candidates:
            return None
        return min(candidates, key=lambda e: (ACTION_ORDER.index(e.advice.action), -(e.projection.cost.total if e.projection else 0)))

    def top_actions(self, limit: int = 5) -> list[dict[str, Any]]:
        """What to do first, ranked by dollars a month: the Database Savings Plan commitment, a
        cheaper engine or node-based setup, the cost drivers' findings (compression, storage
        growth...), then limit changes (which move the worst case, not the bill: no dollar figure)
        by urgency. Options of one cache can exclude each other (see savings_available)."""
        items: list[dict[str, Any]] = []
        plan = self.savings_plan
        if plan is not None and plan.advice.commitment_per_hour > 0 and plan.additional_commitment > 0:
            items.append({"env": None, "kind": "commitment", "saves_month": plan.advice.savings_expected,
                          "text": f"commit ${plan.additional_commitment:,.3f}/hour to a Database Savings Plan "
                                  f"(Valkey: {len(plan.environments)} cache{'' if len(plan.environments) == 1 else 's'})"})
        scale = self.hours_per_month / self.horizon_hours
        for env in self.ok:
            valkey = env.alternatives.get("valkey")
            if valkey and valkey["saving"] > 0:
                items.append({"env": env.env, "kind": "engine", "saves_month": valkey["saving"] * scale,
                              "text": "move to Valkey (same usage, lower rates)"})
            nodes = env.alternatives.get("nodes")
            if nodes and nodes.get("cheaper") and nodes["serverless_monthly"] > nodes["monthly"]:
                items.append({"env": env.env, "kind": "nodes", "saves_month": nodes["serverless_monthly"] - nodes["monthly"],
                              "text": nodes["summary"]})
            if env.drivers is not None:
                items += [{"env": env.env, "kind": f.kind, "saves_month": f.saves_month, "text": f.text}
                          for f in env.drivers.findings if f.saves_month]
        money_first = sorted(items, key=lambda item: -item["saves_month"])
        limits = sorted((e for e in self.ok if e.advice and e.advice.action != "keep"),
                        key=lambda e: (ACTION_ORDER.index(e.advice.action), -(e.projection.cost.total if e.projection else 0)))
        money_first += [{"env": e.env, "kind": "limits", "saves_month": None,
                         "text": f"{e.advice.action} limits: {e.advice.reasons[0] if e.advice.reasons else ''}".rstrip(": ")} for e in limits]
        return money_first[:limit]

    def savings_available(self) -> dict[str, dict[str, Any]]:
        """Per environment, the largest monthly saving on offer and what it takes: its share of the
        recommended Savings Plan's expected saving (in proportion to its on-demand cost), the same
        usage on Valkey (Redis OSS caches), or node-based ElastiCache where that is cheaper. The
        options exclude each other (a cache moved to nodes leaves the plan), so they are not added."""
        plan = self.savings_plan
        in_plan = set(plan.environments) if plan is not None else set()
        scale = self.hours_per_month / self.horizon_hours
        out: dict[str, dict[str, Any]] = {}
        for env in self.ok:
            options: dict[str, float] = {}
            month = env.projected_month
            if env.env in in_plan and plan.advice.eligible_on_demand > 0 and month:
                share = plan.advice.savings_expected * month["total"] / plan.advice.eligible_on_demand
                if share > 0:
                    options["Savings Plan"] = share
            valkey = env.alternatives.get("valkey")
            if valkey and valkey["saving"] > 0:
                options["Valkey"] = valkey["saving"] * scale
            nodes = env.alternatives.get("nodes")
            if nodes and nodes.get("cheaper") and nodes["serverless_monthly"] > nodes["monthly"]:
                options["nodes"] = nodes["serverless_monthly"] - nodes["monthly"]
            if options:
                by = max(options, key=options.get)
                out[env.env] = {"month": options[by], "by": by, "options": options}
        return out

    def grouping(self) -> str:
        """What the fleet table groups by: `group_by`, or with "auto" accounts when the report spans
        several, else regions when it spans several, else nothing."""
        if self.group_by != "auto":
            return self.group_by
        if len({e.history.account for e in self.environments}) > 1:
            return "account"
        if len({e.history.region for e in self.environments}) > 1:
            return "region"
        return "none"

    def to_dict(self) -> dict[str, Any]:
        savings = self.savings_available()
        return {
            "as_of": iso_utc(self.as_of),
            "generated_at": iso_utc(self.generated_at),
            "source": self.source,
            "pricing": {"file": self.pricing_file, "region": self.pricing_region},
            "horizon_hours": self.horizon_hours,
            "interval": self.interval,
            "environments": [{**e.to_dict(), "account": e.history.account, "tags": dict(e.history.tags), "savings_available": savings.get(e.env)} for e in self.environments],
            "totals": {
                "window": self.total_window().to_dict(),
                "projected": self.total_projection(),
                "projected_month": self.total_month(),
                "budget": self.budget,
                "over_budget": self.over_budget,
                "savings_plan": self.savings_plan.to_dict() if self.savings_plan else None,
                "top_actions": self.top_actions(),
            },
            **({"iac": self.suggestion.to_dict()} if self.suggestion is not None else {}),
            "notes": list(self.notes),
        }


def usage_summary(frame, bytes_per_gb: float) -> dict[str, dict[str, float | None]]:
    """Storage GB: mean and p95 of hourly averages (the billed quantity), max of hourly maxima.
    ECPU/s: mean of hourly rates (Sum / 3600), p95 and max of busiest minutes (Maximum / 60)."""

    def finite(values: np.ndarray) -> np.ndarray:
        return values[np.isfinite(values)]

    def stats(mean_of: np.ndarray, p95_of: np.ndarray, max_of: np.ndarray) -> dict[str, float | None]:
        mean_of, p95_of, max_of = finite(mean_of), finite(p95_of), finite(max_of)
        if not max_of.size:
            max_of = mean_of
        return {
            "mean": float(mean_of.mean()) if mean_of.size else None,
            "p95": float(np.percentile(p95_of, 95)) if p95_of.size else None,
            "max": float(max_of.max()) if max_of.size else None,
        }

    storage_avg = frame["storage_avg_bytes"].to_numpy(float) / bytes_per_gb
    storage_max = frame["storage_max_bytes"].to_numpy(float) / bytes_per_gb
    busiest = busiest_ecpu_per_second(frame)
    hourly = mean_ecpu_per_second(frame)
    return {"storage_gb": stats(storage_avg, storage_avg, storage_max), "ecpu_per_second": stats(hourly, busiest, busiest)}


def analyze_environment(env: EnvHistory, prices: PriceBook, settings: SizingSettings, window: Window,
                        driver_settings: DriverSettings | None = None) -> EnvironmentResult:
    result = EnvironmentResult(history=env, window=window, settings=settings, hours_per_month=prices.hours_per_month,
                               bytes_per_gb=prices.bytes_per_gb, warnings=list(env.warnings), error=env.error)
    hours = window.hours
    if env.error is not None or env.frame is None:
        result.error = env.error or "no history"
        return result
    try:
        rates = prices.rates(env.region, env.engine or "valkey")
    except CostwiseError as exc:
        result.error = str(exc)
        return result
    frame = env.frame
    present = frame[["storage_avg_bytes", "ecpu_sum"]].notna().any(axis=1)
    result.hours_with_data = int(present.sum())
    if result.hours_with_data == 0:
        result.error = "no datapoints in the window"
        return result
    missing_storage = int(frame["storage_avg_bytes"].isna().sum())
    if result.hours_with_data < hours:
        result.warnings.append(f"{hours - result.hours_with_data} of {hours} hours have no data (kept as gaps; not billed in the window cost)")
    elif missing_storage:
        result.warnings.append(f"{missing_storage} hours have no storage datapoint (not billed in the window cost)")
    result.low_confidence_rates = rates.low_confidence
    if rates.low_confidence:
        result.warnings.append(f"{rates.region} {rates.engine} prices are low confidence (see pricing.yaml)")
    result.window_cost = cost_of_hours(frame["storage_avg_bytes"], frame["ecpu_sum"], rates)
    result.usage = usage_summary(frame, rates.bytes_per_gb)
    result.projection = project_month(frame, rates, settings)
    result.advice = recommend_limits(frame, result.projection, env.limits, rates, settings)
    result.alternatives = alternatives(result, prices, rates)
    if env.drivers is not None:
        result.drivers = drivers_of(result, rates, driver_settings)
    throttled = float(np.nansum(frame["throttled_sum"].to_numpy(float)))
    if throttled > 0:
        result.warnings.append(f"{throttled:,.0f} commands were throttled (ThrottledCmds) in the window")
    if result.projection.confidence == "low":
        result.warnings.append(f"short history ({result.projection.history_days:.1f} days): projection and limits are low confidence")
    if result.over_budget:
        result.warnings.append(
            f"projected {money(result.projected_month['total'])} a month exceeds the {money(env.budget)} monthly budget"
        )
    return result


def window_cost_ranker(prices: PriceBook):
    """A cache's window cost (0 when it cannot be priced): ranks the caches whose drivers are read."""
    def cost(env: EnvHistory) -> float:
        if env.frame is None:
            return 0.0
        try:
            rates = prices.rates(env.region, env.engine or "valkey")
        except CostwiseError:  # a region pricing.yaml lacks: its caches rank last
            return 0.0
        return cost_of_hours(env.frame["storage_avg_bytes"], env.frame["ecpu_sum"], rates).total

    return cost


def drivers_of(result: EnvironmentResult, rates, settings: DriverSettings | None) -> Drivers:
    """The cost drivers over the window the bill covers, against its own ECPUs and storage."""
    env, frame = result.history, result.history.frame
    stored = frame["storage_avg_bytes"].to_numpy(float)
    finite = stored[np.isfinite(stored)]
    newest = stored[-24:][np.isfinite(stored[-24:])]
    return analyse_drivers(
        env.drivers, env.engine, rates, hours=result.hours_with_data,
        window_ecpus=float(np.nansum(frame["ecpu_sum"].to_numpy(float))),
        storage_bytes_mean=float(finite.mean()) if finite.size else None,
        storage_peak_gb=(result.usage or {}).get("storage_gb", {}).get("max"),
        max_storage_gb=env.limits.max_storage_gb,
        storage_daily_growth=result.projection.storage.daily_growth if result.projection else 0.0,
        storage_level_gb=float(newest.mean()) / rates.bytes_per_gb if newest.size else None,
        settings=settings,
    )


def alternatives(result: EnvironmentResult, prices: PriceBook, rates) -> dict[str, Any]:
    """What the same usage would cost on node-based ElastiCache, and on Valkey for Redis OSS caches."""
    from costwise.model.nodes import compare_with_nodes

    out: dict[str, Any] = {}
    projection, advice = result.projection, result.advice
    # nodes must hold the peak, not the mean: size them for the peaks grown to the month's end
    comparison = compare_with_nodes(advice.storage.projected_peak, advice.ecpu.projected_peak, rates,
                                    prices.node_types(rates.region, rates.engine), serverless_monthly=result.projected_month["total"])
    if comparison is not None:
        out["nodes"] = comparison.to_dict()
    if rates.engine == "redis-oss":
        try:
            valkey = prices.rates(rates.region, "valkey")
        except CostwiseError:
            return out
        storage, ecpu = hourly_bill(projection.storage_gb, projection.ecpu_per_hour, valkey)
        projected = float(storage.sum() + ecpu.sum())
        frame = result.history.frame
        window = cost_of_hours(frame["storage_avg_bytes"], frame["ecpu_sum"], valkey).total
        hours = result.settings.horizon_hours
        out["valkey"] = {
            "engine": "valkey",
            "window": window,
            "projected": projected,
            "saving": projection.cost.total - projected,
            "hours": hours,
            "summary": f"the same usage on Valkey: {money(projected)} for the next {hours:,} hours, {money(projection.cost.total - projected)} less",
        }
    return out


@dataclass
class SavingsPlanView:
    """Database Savings Plan advice for the eligible (serverless Valkey) caches of a report, monthly."""

    advice: CommitmentAdvice
    environments: list[str]
    existing_commitment: float | None = None  # $/hour already bought
    existing_source: str | None = None
    net_month: float | None = None  # the eligible caches' bill with that commitment
    allocation: dict[str, float] = field(default_factory=dict)  # env -> its share of net_month

    NOTE = ("a Savings Plan is shared by every eligible database service in the account: the net cost "
            "per cache is an allocation, in proportion to each cache's on-demand cost")

    @property
    def additional_commitment(self) -> float:
        return max(self.advice.commitment_per_hour - (self.existing_commitment or 0.0), 0.0)

    def to_dict(self) -> dict[str, Any]:
        a = self.advice
        return {
            "discount": a.discount,
            "eligible_on_demand_month": a.eligible_on_demand,
            "recommended_commitment_per_hour": a.commitment_per_hour,
            "savings_month": {"expected": a.savings_expected, "low": a.savings_low, "high": a.savings_high},
            "break_even_utilisation": a.break_even_utilisation,
            "environments": list(self.environments),
            "existing": (
                {"commitment_per_hour": self.existing_commitment, "source": self.existing_source, "net_month": self.net_month,
                 "on_demand_month": a.eligible_on_demand, "additional_commitment_per_hour": self.additional_commitment,
                 "allocation": dict(self.allocation), "note": self.NOTE}
                if self.existing_commitment is not None else None
            ),
        }


def savings_plan_view(envs: list[EnvironmentResult], prices: PriceBook, settings: SizingSettings,
                      existing: float | None = None, existing_source: str | None = None) -> SavingsPlanView | None:
    """Sum the eligible caches' projected hours at on-demand and plan rates; advise a commitment."""
    on_demand, at_plan, lows, highs, names, shares = None, 0.0, 0.0, 0.0, [], {}
    for env in envs:
        if env.error or env.projection is None or env.history.engine != "valkey":
            continue
        plan_rates = prices.savings_plan_rates(env.history.region, "valkey")
        if plan_rates is None:
            continue
        rates = prices.rates(env.history.region, "valkey")
        p = env.projection
        hourly = sum(hourly_bill(p.storage_gb, p.ecpu_per_hour, rates))
        on_demand = hourly if on_demand is None else on_demand + hourly
        at_plan += float(sum(part.sum() for part in hourly_bill(p.storage_gb, p.ecpu_per_hour, plan_rates)))
        lows, highs = lows + p.low, highs + p.high
        env.savings_plan_eligible = True
        names.append(env.env)
        shares[env.env] = float(hourly.sum())
    if on_demand is None or on_demand.sum() <= 0:
        return None
    total = float(on_demand.sum())
    discount = 1 - at_plan / total
    z = NormalDist().inv_cdf((1 + settings.interval) / 2)
    log_sigma = float(np.log(highs / lows) / (2 * z)) if lows > 0 and highs > lows else 0.0
    to_month = prices.hours_per_month / settings.horizon_hours
    advice = recommend_commitment(on_demand, discount, log_sigma).scaled(to_month)
    view = SavingsPlanView(advice, names, existing, existing_source)
    if existing is not None:
        view.net_month = float(net_cost(on_demand, existing, discount).sum()) * to_month
        view.allocation = {name: view.net_month * share / total for name, share in shares.items()}
    return view


def build_report(
    history: History,
    prices: PriceBook,
    settings: SizingSettings,
    pricing_region: str,
    generated_at: datetime | None = None,
    budget: float | None = None,
    existing_commitment: float | None = None,
    commitment_source: str | None = None,
    notes: list[str] | None = None,
    detail_limit: int = 25,
    group_by: str = "auto",
    driver_settings: DriverSettings | None = None,
) -> Report:
    envs = [analyze_environment(env, prices, settings, history.window, driver_settings) for env in history.environments]
    return Report(
        as_of=history.window.end,
        generated_at=generated_at or datetime.now(timezone.utc),
        window=history.window,
        pricing_file=str(prices.path),
        pricing_region=pricing_region,
        source=history.source,
        environments=envs,
        settings=settings,
        hours_per_month=prices.hours_per_month,
        budget=budget,
        savings_plan=savings_plan_view(envs, prices, settings, existing_commitment, commitment_source),
        notes=list(notes or []),
        detail_limit=detail_limit,
        group_by=group_by,
    )
