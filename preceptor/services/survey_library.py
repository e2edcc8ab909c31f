"""The default surveys from PRODUCT.md, as data, installed once and then edited in the portal
(each edit a new template version).

The questions are the portal's own, not a licensed instrument. Each has a `code` that stays the
same across versions, so reports join answers from every version of a survey by code.
"""

from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from ..models import QuestionType, SurveyPurpose, SurveyQuestion, SurveyTemplate

# The 5-point agreement scale: an AGREEMENT answer is stored as 1 to 5.
AGREEMENT_SCALE: dict[int, str] = {
    1: "Strongly disagree",
    2: "Disagree",
    3: "Neither agree nor disagree",
    4: "Agree",
    5: "Strongly agree",
}


@dataclass(frozen=True)
class Question:
    code: str
    text: str
    qtype: QuestionType = QuestionType.AGREEMENT
    help_text: str = ""
    required: bool = True
    step: int = 1  # questions answered together on one screen


@dataclass(frozen=True)
class Survey:
    key: str
    name: str
    purpose: SurveyPurpose
    questions: tuple[Question, ...]


def _free_text(code: str, text: str, help_text: str) -> Question:
    return Question(code, text, QuestionType.FREE_TEXT, help_text, required=False, step=2)


PRECEPTOR_FEEDBACK = Survey(
    key="preceptor-feedback",
    name="Feedback on your preceptor",
    purpose=SurveyPurpose.PRECEPTOR_FEEDBACK,
    questions=(
        Question("made_time", "My preceptor made time for me."),
        Question("reflection", "My preceptor helped me reflect on my practice."),
        Question("useful_feedback", "My preceptor gave me feedback I could use."),
        Question("signposting", "My preceptor pointed me to support and learning when I needed it."),
        Question("part_of_team", "My preceptor helped me feel part of the team."),
        Question("recommend", "Overall, I would recommend my preceptor to someone starting in my role."),
        _free_text("do_differently", "What could your preceptor do differently?",
                   "Your preceptor will not see what you write here. Education leads see it without your name, "
                   "and only together with answers from several other people."),
    ),
)

NEWLY_QUALIFIED = Survey(
    key="newly-qualified",
    name="How your first year is going",
    purpose=SurveyPurpose.NEWLY_QUALIFIED,
    questions=(
        Question("confidence", "I feel confident in my role."),
        Question("preceptor_support", "I get the support I need from my preceptor."),
        Question("team_support", "I get the support I need from the team I work with."),
        Question("workload", "My workload is manageable."),
        Question("wellbeing", "My wellbeing is looked after at work."),
        Question("valued", "I feel valued for the work I do."),
        Question("intention_to_stay", "I expect to still be working here in a year's time."),
        _free_text("helped_most", "What has helped you most so far?",
                   "Education leads see answers without your name, and only together with answers from several "
                   "other people."),
        _free_text("improve_programme", "What would improve the preceptorship programme?",
                   "Education leads see answers without your name, and only together with answers from several "
                   "other people."),
    ),
)

DEFAULT_SURVEYS: tuple[Survey, ...] = (PRECEPTOR_FEEDBACK, NEWLY_QUALIFIED)


def install_default_surveys() -> int:
    """Add any default survey whose key has no template yet; returns how many were added.
    Idempotent, and never touches a survey the trust has since edited. Never commits."""
    existing = set(db.session.scalars(select(SurveyTemplate.key)))
    added = 0
    for survey in DEFAULT_SURVEYS:
        if survey.key in existing:
            continue
        db.session.add(SurveyTemplate(
            key=survey.key, version=1, current=True, name=survey.name, purpose=survey.purpose,
            questions=[
                SurveyQuestion(position=position, step=q.step, code=q.code, text=q.text, help_text=q.help_text,
                               qtype=q.qtype, required=q.required)
                for position, q in enumerate(survey.questions)
            ],
        ))
        added += 1
    return added
