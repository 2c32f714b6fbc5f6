"""The public API: every name users and the docs rely on, per package.

A name that disappears from a package (or stops importing) fails here: removing or
renaming a public name is a decision, taken by editing this list with a changelog line.
New names may be added to a package's ``__all__`` freely (then to this list).
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

API = {
    "pixirt": (
        "ConvergenceWarning",
        "DataError",
        "DataWarning",
        "DegenerateItemWarning",
        "ItemBank",
        "LogDescription",
        "LogSplit",
        "PixirtError",
        "Progress",
        "ResponseLog",
        "RuleError",
        "ScoringError",
        "SessionError",
        "__version__",
        "models",
        "read_responses",
        "rules",
    ),
    "pixirt.calibration": (
        "BASELINE",
        "CalibrationError",
        "CalibrationResult",
        "CalibrationSummary",
        "ConvergenceWarning",
        "DEFAULT_C_BETA",
        "DegenerateItemWarning",
        "HoldoutResult",
        "LINK_METHODS",
        "LinkingResult",
        "METHODS",
        "Priors",
        "ResponseSource",
        "binned_fit",
        "calibrate",
        "compare_models",
        "dif_power_study",
        "empirical_icc",
        "empirical_reliability",
        "holdout_predictions",
        "holdout_scores",
        "holdout_validation",
        "identify_forms",
        "infit_outfit",
        "irt_dif",
        "item_fit",
        "link",
        "log_loss",
        "m2",
        "mantel_haenszel_dif",
        "marginal_reliability",
        "pairwise_gains",
        "person_fit",
        "plausible_values",
        "plot_dif",
        "plot_drift",
        "plot_icc",
        "plot_information",
        "plot_wright_map",
        "prediction_scores",
        "q3_pairs",
        "roc_auc",
        "s_x2",
        "score_persons",
        "standard_error",
        "sum_score_eap",
        "yen_q3",
    ),
    "pixirt.cat": (
        "ABORT_REASONS",
        "ANSWER_STATUSES",
        "AStratified",
        "AbortReason",
        "AdaptiveState",
        "AdaptiveTest",
        "AnswerStatus",
        "BankStructure",
        "Candidate",
        "CapacityHistory",
        "CapacityModel",
        "CapacityState",
        "CapacityStep",
        "CatContext",
        "CatState",
        "Certification",
        "CertificationChallenge",
        "CertificationResult",
        "ChallengeChoice",
        "CompetenceProfile",
        "CompetenceResult",
        "Degradation",
        "EAP",
        "Estimate",
        "Estimator",
        "FixedStart",
        "Initializer",
        "IssueReport",
        "JuryEvent",
        "MAP",
        "MLE",
        "MaxInformation",
        "MaxLength",
        "MinStandardError",
        "PositionedCompetence",
        "Profile",
        "RandomStart",
        "Randomesque",
        "SelectionState",
        "Selector",
        "Stopper",
        "SympsonHetter",
        "abort",
        "build_runtime",
        "candidate_pool",
        "certification",
        "deneutralize",
        "flag_live_alert",
        "neutralize",
        "next_challenge",
        "pick_rank",
        "rank_by_information",
        "record",
        "report_issue",
        "result",
        "score",
        "start",
        "sympson_hetter_parameters",
    ),
    "pixirt.simulation": (
        "Comparison",
        "FEATURE_SHARES",
        "ObservedPopulation",
        "PIX_LIKE_INCIDENTS",
        "Population",
        "Responder",
        "SimulationResult",
        "compare",
        "counterfactual",
        "framework",
        "pix_like_bank",
        "read_pix_export",
        "read_sessions",
        "replay",
        "replay_candidate",
        "simulate",
        "simulate_answers",
        "write_sessions",
    ),
    "pixirt.service": (
        "PostgresStore",
        "SQLiteStore",
        "SessionStore",
        "Settings",
        "StoreError",
        "create_app",
        "derive_candidate_index",
        "get_clock",
        "get_service",
        "get_settings",
        "open_store",
    ),
    "pixirt.cli": (
        "build_parser",
        "main",
    ),
    "pixirt.rules": (
        "Action",
        "CapacityRules",
        "CleaRules",
        "CompetenceInterval",
        "Complementary",
        "FieldChange",
        "IncidentPolicy",
        "IncidentResolution",
        "JuryRules",
        "LevelRule",
        "Mesh",
        "PixPlusRules",
        "ReproducibilityThresholds",
        "RuleSet",
        "RuleSetDiff",
        "Scoring",
        "ScoringInterval",
        "SelectionRules",
        "SuccessRateFixed",
        "SuccessRateLinear",
        "V2Scoring",
        "V3Scoring",
        "available",
        "diff",
        "load",
    ),
    "pixirt.models": (
        "MODELS",
        "Model",
        "from_slope_intercept",
        "information",
        "log_likelihood",
        "probability",
        "to_slope_intercept",
    ),
    "pixirt.datasets": ("pisa2012_us_math",),
    "pixirt.testing": (
        "check_estimator",
        "check_initializer",
        "check_selector",
        "check_stopper",
    ),
}

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("package", sorted(API))
def test_every_public_name_is_there(package):
    mod = importlib.import_module(package)
    exported = set(getattr(mod, "__all__", ()))
    missing = [n for n in API[package] if n not in exported]
    assert not missing, f"{package} lost {missing}"
    for name in exported:
        assert getattr(mod, name) is not None, f"{package}.{name} does not import"


def test_the_readme_needs_four_imports_of_public_packages():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    lines = [
        ln.strip()
        for b in blocks
        for ln in b.splitlines()
        if re.match(r"\s*(from|import) pixirt", ln)
    ]
    modules = {re.match(r"(?:from|import) (pixirt[\w.]*)", ln).group(1) for ln in lines}
    assert len(lines) <= 4, lines
    assert modules <= {"pixirt", "pixirt.calibration", "pixirt.cat", "pixirt.simulation"}, modules


#: The modules that may be public (no leading underscore in their path below ``pixirt``):
#: the packages, the five public modules of the top package and the CLI's entry points;
#: everything else is an implementation module, private behind its package's names.
PUBLIC_MODULES = {
    "pixirt/__init__.py",
    "pixirt/exceptions.py",
    "pixirt/datasets.py",
    "pixirt/testing.py",
    "pixirt/rules.py",
    "pixirt/models.py",
    "pixirt/calibration/__init__.py",
    "pixirt/cat/__init__.py",
    "pixirt/simulation/__init__.py",
    "pixirt/cli/__init__.py",
    "pixirt/cli/__main__.py",
    "pixirt/service/__init__.py",
}


def _is_private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def test_implementation_modules_are_private():
    package = ROOT / "pixirt"
    public = [
        rel
        for path in sorted(package.rglob("*.py"))
        if not any(_is_private(p) for p in path.relative_to(package).with_suffix("").parts)
        and (rel := path.relative_to(ROOT).as_posix()) not in PUBLIC_MODULES
    ]
    assert not public, "public modules outside the list (make them private):\n" + "\n".join(public)
