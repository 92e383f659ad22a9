"""The sections of params.yaml, one typed class per stage.

Each stage receives its own section; unknown keys and wrong types are errors.
The defaults here are the packaged defaults (pipeline/core/params.py assembles them).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Section(BaseModel):
    """A params.yaml section: unknown keys and wrong types are errors."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DemoParams(Section):
    """data.demo: the built-in simulator's defaults."""

    customers: int = Field(20_000, gt=0)
    months: int = Field(36, ge=6)
    seed: int = 42
    start: str = "2021-01"
    bear_spell_months: int = Field(0, ge=0)
    silent_leaver_share: float | None = Field(None, ge=0.0, le=1.0)


class DataParams(Section):
    """data: where inputs live and how far they reach."""

    dir: str = "data/demo"
    observation_end: str | None = None
    min_activity_share: float = Field(0.2, gt=0.0, le=1.0)
    demo: DemoParams = DemoParams()


class ValidationParams(Section):
    """validation: how much quarantine a run tolerates, and the bounds of plausible values."""

    max_rejected_share: float = Field(0.01, ge=0.0, le=1.0)
    max_money: float = Field(1e12, gt=0.0)
    birth_year_min: int = Field(1900, ge=1800)
    min_customer_age: int = Field(16, ge=0, le=120)
    duplicate_rows: Literal["warn", "quarantine"] = "warn"


class LabelParams(Section):
    """label: the churn definition and its horizon."""

    definition: Literal["closure", "dormancy", "asset_drain"] = "closure"
    horizon_months: int = Field(3, ge=1, le=24)
    asset_drain_fraction: float = Field(0.2, gt=0.0, lt=1.0)


class SnapshotParams(Section):
    """snapshots: which as-of month ends are stacked for training."""

    first_as_of: str | None = None
    last_as_of: str | None = None
    min_history_months: int = Field(6, ge=0, le=600)
    every_months: int = Field(1, ge=1, le=120)


class FeatureParams(Section):
    """features: builder settings and the customer value model."""

    chunk_customers: int = Field(5_000, gt=0)
    value_tier_assets: list[float] = [100_000.0, 1_000_000.0]
    value_tier_names: list[str] = ["mass", "affluent", "high_net_worth"]
    value_weight_contribution: float = 0.5
    value_weight_growth: float = 0.2
    value_weight_product_appetite: float = 0.1
    value_weight_influence: float = 0.1
    value_weight_resources: float = 0.1
    servicing_cost_per_month: float = 20.0

    @model_validator(mode="after")
    def _tiers_match_names(self) -> FeatureParams:
        if len(self.value_tier_names) != len(self.value_tier_assets) + 1:
            raise ValueError("value_tier_names needs one name more than value_tier_assets")
        if sorted(self.value_tier_assets) != list(self.value_tier_assets):
            raise ValueError("value_tier_assets must be increasing")
        return self


class ValueParams(Section):
    """value: what an account is worth in CNY (revenue, lifetime value, value at risk)."""

    interest_spread_rate: float = Field(0.015, ge=0, le=1)
    lifetime_months: int = Field(60, ge=1, le=600)
    discount_rate: float = Field(0.08, ge=0, le=1)


class RuleWeights(Section):
    """rules.weights: the rule baseline's weight per indicator group."""

    key: float = 2.0
    auxiliary: float = 1.0
    qualitative: float = 0.5


class RuleLevels(Section):
    """rules.levels: how many indicators make a red or yellow warning (the project's convention)."""

    red_key: int = 2
    red_key_plus_others_key: int = 1
    red_key_plus_others_others: int = 2
    yellow_key: int = 1
    yellow_others: int = 2


class RuleParams(Section):
    """rules: the guideline's indicator thresholds, weights and levels."""

    outflow_share: float = Field(0.30, ge=0)
    outflow_min_count: int = Field(1, ge=1)
    commission_drop_share: float = Field(0.30, ge=0, le=1)
    large_customer_assets: float = Field(1_000_000.0, ge=0)
    empty_position_months: int = Field(2, ge=1)
    trade_drop_share: float = Field(0.50, ge=0, le=1)
    big_loss_share: float = Field(0.50, ge=0)
    contact_drop_share: float = Field(1.0, gt=0)
    weights: RuleWeights = RuleWeights()
    levels: RuleLevels = RuleLevels()


class LightGBMParams(Section):
    """model.lightgbm: LightGBM settings."""

    n_estimators: int = Field(600, gt=0)
    learning_rate: float = Field(0.05, gt=0)
    num_leaves: int = Field(31, ge=2)
    min_child_samples: int = Field(50, ge=1)
    subsample: float = Field(0.8, gt=0, le=1)
    subsample_freq: int = 1
    colsample_bytree: float = Field(0.8, gt=0, le=1)
    reg_lambda: float = Field(1.0, ge=0)
    class_weight: Literal["balanced"] | None = None
    scale_pos_weight: float | None = None
    early_stopping_rounds: int = Field(50, ge=1)
    num_threads: int = Field(2, ge=1)


class SearchParams(Section):
    """model.search: the optional hyperparameter search."""

    enabled: bool = False
    trials: int = Field(20, ge=1)
    timeout_seconds: int | None = None


class LogisticParams(Section):
    """model.logistic: the logistic-regression reference."""

    C: float = Field(1.0, gt=0)
    max_iter: int = Field(1000, gt=0)


class CauseParams(Section):
    """model.cause: the cause model learned from customers.close_reason."""

    min_closed_accounts: int = Field(200, ge=1)
    num_leaves: int = Field(15, ge=2)
    learning_rate: float = Field(0.05, gt=0)
    n_estimators: int = Field(400, gt=0)
    min_child_samples: int = Field(20, ge=1)
    early_stopping_rounds: int = Field(30, ge=1)


class ModelParams(Section):
    """model: seeds, calibration and each model's settings."""

    seed: int = 7
    calibration: Literal["isotonic", "sigmoid", "none"] = "sigmoid"
    refit: bool = True
    refit_tree_scale: float = Field(1.0, gt=0)
    lightgbm: LightGBMParams = LightGBMParams()
    search: SearchParams = SearchParams()
    logistic: LogisticParams = LogisticParams()
    cause: CauseParams = CauseParams()


class SplitParams(Section):
    """split: the out-of-time train / validation / test split."""

    test_months: int = Field(3, ge=1)
    validation_months: int = Field(3, ge=1)
    test_end: str | None = None
    purge_months: int | None = Field(None, ge=0)
    short_history_fallback: bool = True


class EvaluationParams(Section):
    """evaluation: call-list capacity, lift points, champion metric, intervals of differences."""

    call_list_capacity: int = Field(500, gt=0)
    lift_fractions: list[float] = [0.05, 0.10, 0.20]
    champion_metric: Literal[
        "pr_auc", "roc_auc", "lift_at_10pct", "recall_at_rule_volume", "assets_at_risk_recall"
    ] = "pr_auc"
    bootstrap_resamples: int = Field(200, ge=0)
    bootstrap_seed: int = 7
    confidence: float = Field(0.95, gt=0, lt=1)


class ScoringParams(Section):
    """scoring: the monthly batch scoring job."""

    chunk_customers: int = Field(100_000, gt=0)
    band_by: Literal["probability", "rank"] = "probability"
    band_cuts: list[float] = [0.10, 0.30]
    band_names: list[str] = ["low", "medium", "high"]
    reasons_top_share: float | Literal["all"] = 0.20
    reasons_per_account: int = Field(3, ge=1, le=3)
    playbook: str | None = None
    slow_market_ratio: float = Field(0.8, gt=0)
    psi_threshold: float = Field(0.2, gt=0)
    psi_bins: int = Field(10, ge=2)

    @model_validator(mode="after")
    def _bands_match_names(self) -> ScoringParams:
        if len(self.band_names) != len(self.band_cuts) + 1:
            raise ValueError("band_names needs one name more than band_cuts")
        if len(set(self.band_names)) != len(self.band_names):
            raise ValueError("band_names must be distinct")
        cuts = list(self.band_cuts)
        if any(b <= a for a, b in zip(cuts, cuts[1:], strict=False)):
            raise ValueError("band_cuts must be strictly increasing")
        if any(not 0.0 <= cut <= 1.0 for cut in cuts):
            raise ValueError("band_cuts are probabilities or shares, between 0 and 1")
        share = self.reasons_top_share
        if share != "all" and not 0.0 <= share <= 1.0:
            raise ValueError('reasons_top_share must be between 0 and 1, or "all"')
        return self


class RetentionParams(Section):
    """retention: the control group, the measured effect of each play, advisors' call lists."""

    control_share: float = Field(0.10, ge=0.0, lt=1.0)
    control_seed: int = 20240601
    calls_per_advisor: int = Field(40, gt=0)
    contact_cost: float = Field(20.0, ge=0.0)
    prior_save_rate: float = Field(0.15, ge=0.0, le=1.0)
    prior_accounts: int = Field(200, ge=0)
    confidence: float = Field(0.95, gt=0.0, lt=1.0)
    treated_in_training: Literal["exclude", "keep"] = "exclude"


class TrackingParams(Section):
    """tracking: MLflow tracking store, experiment and model name."""

    uri: str | None = None
    experiment: str = "brokerage-churn"
    model_name: str = "brokerage-churn-lightgbm"
    request_timeout_seconds: int = Field(10, ge=1)
    request_retries: int = Field(2, ge=0)
    log_customer_artifacts: bool = False


class EngineParams(Section):
    """engine: local or Dask execution."""

    kind: Literal["local", "dask"] = "local"
    scheduler_address: str | None = None
    n_workers: int = Field(2, ge=1)
    threads_per_worker: int = Field(1, ge=1)
    partitions: int | None = Field(None, ge=1)
    partition_rows: int = Field(20_000_000, gt=0)
    spill_dir: str | None = None
    gather_max_rows: int = Field(5_000_000, ge=0)
    worker_memory: str = "auto"
    retries: int = Field(2, ge=0)
    chunk_customers: int = Field(100_000, gt=0)
