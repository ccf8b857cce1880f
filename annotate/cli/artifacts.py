"""Generated, checked-in artifacts: one JSON Schema per model, the seed labeling config and the
statement-linking config (``DEFAULT_BUCKETS`` buckets).

They stay in ``schemas/`` (the models' package); this module lives with the CLI because it is the
one layer that sees every model: the label models, the report models of ``exports`` and the
labeling config of ``annotate.labelstudio``.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

import schemas
from annotate.labelstudio.config import generate_labeling_config
from annotate.labelstudio.linking.config import generate_linking_config
from exports.agreement_report import AgreementReport
from exports.evaluation_report import EvaluationReport
from exports.statements.adjudication import StatementAdjudication
from exports.statements.agreement_report import StatementAgreementReport
from exports.statements.evaluation_report import StatementEvaluation
from exports.statements.fidelity_view import FidelityReport
from schemas import models, statements
from schemas.files import write_atomically
from schemas.models import TargetInventory
from schemas.spans import Span

SCHEMAS_DIR = Path(schemas.__file__).resolve().parent
JSON_DIR = SCHEMAS_DIR / "json"
LABELING_CONFIG = SCHEMAS_DIR / "labeling_config.xml"

LABEL_MODELS: list[type[BaseModel]] = [
    models.Article, Span, models.Entity, models.Mention, models.Quote, models.Stance, models.Claim,
    models.Provenance, models.TargetInventory, models.AnnotatedDocument,
    statements.Rendering, statements.Statement, statements.StatementDocument,
]
REPORT_MODELS: list[type[BaseModel]] = [AgreementReport, EvaluationReport, StatementAgreementReport,
                                        StatementAdjudication, StatementEvaluation, FidelityReport]


def linking_config_path() -> Path:
    """Beside the labeling config (so a test that moves one moves both)."""
    return LABELING_CONFIG.with_name("linking_config.xml")


def all_models() -> list[type[BaseModel]]:
    return LABEL_MODELS + REPORT_MODELS


def rendered(targets: TargetInventory) -> dict[Path, str]:
    """Every artifact's path and its expected content."""
    out = {
        JSON_DIR / f"{m.__name__}.schema.json": json.dumps(m.model_json_schema(), indent=2, ensure_ascii=False) + "\n"
        for m in all_models()
    }
    out[LABELING_CONFIG] = generate_labeling_config(targets)
    out[linking_config_path()] = generate_linking_config()
    return out


def write_artifacts(targets: TargetInventory, check: bool = False) -> list[str]:
    """Write the artifacts (or, with ``check``, only compare). Returns the stale ones' names."""
    stale = []
    for path, content in rendered(targets).items():
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            stale.append(path.name)
            if not check:
                write_atomically(path, content, make_parents=True)
    return stale
