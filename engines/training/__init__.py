"""Training-program generator: a climber's profile in, a periodised, safety-checked plan out.

Pure engine (no Temporal, HTTP or database): `profile_from_dict` (or `TrainingProfile`) checks the
input, `generate_plan` builds the plan, `check_plan` validates it against `SAFETY_RULES` (the
generator already has), `plan_to_document` serialises it in the format of
``schema/json/training_program.schema.json``. `allowed_values` lists what each enumerated field
accepts; unknown values raise `TrainingInputError` carrying that list.
"""

from engines.training.catalogue import CATALOGUE, EXERCISES
from engines.training.document import (
    FORMAT,
    VERSION,
    encode_json,
    plan_to_document,
    profile_to_dict,
)
from engines.training.errors import TrainingInputError, UnsafePlanError
from engines.training.exercise import Category, Exercise
from engines.training.generator import generate_plan
from engines.training.grades import (
    Grade,
    GradeSystem,
    allowed_grades,
    convert,
    equivalent,
    level_of,
    parse_grade,
    steps_between,
)
from engines.training.plan import Focus, Note, Phase, Prescription, Session, TrainingPlan, Week
from engines.training.profile import (
    AnalysisHistory,
    TrainingProfile,
    history_from_documents,
    profile_from_dict,
)
from engines.training.safety import SAFETY_RULES, SafetyRule, Violation, check_plan
from engines.training.vocab import (
    Equipment,
    FingerIntensity,
    Goal,
    Injury,
    Level,
    allowed_values,
)

__all__ = [
    "CATALOGUE",
    "EXERCISES",
    "FORMAT",
    "SAFETY_RULES",
    "VERSION",
    "AnalysisHistory",
    "Category",
    "Equipment",
    "Exercise",
    "FingerIntensity",
    "Focus",
    "Goal",
    "Grade",
    "GradeSystem",
    "Injury",
    "Level",
    "Note",
    "Phase",
    "Prescription",
    "SafetyRule",
    "Session",
    "TrainingInputError",
    "TrainingPlan",
    "TrainingProfile",
    "UnsafePlanError",
    "Violation",
    "Week",
    "allowed_grades",
    "allowed_values",
    "check_plan",
    "convert",
    "encode_json",
    "equivalent",
    "generate_plan",
    "history_from_documents",
    "level_of",
    "parse_grade",
    "plan_to_document",
    "profile_from_dict",
    "profile_to_dict",
    "steps_between",
]
