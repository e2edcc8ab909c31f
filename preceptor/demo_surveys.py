"""The demo trust's survey history: every wave of every demo programme that has already
closed, about three in four answered, so the lead's survey report has figures to show (and
groups small enough to be suppressed).

Answers are drawn from a fixed seed, drifting up from baseline to 12 months as new
radiographers settle in, and are stored exactly as real ones are: an anonymous response
that names no person, beside an invitation that records only the day it was answered.
"""

import random
import secrets
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .extensions import db
from .models import (
    Preceptorship,
    QuestionType,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    TimePoint,
)
from .services import survey_waves

# Mean agreement at each wave: confidence and support grow through the first year.
WAVE_MEAN = {TimePoint.BASELINE: 3.1, TimePoint.MONTH_3: 3.4, TimePoint.MONTH_6: 3.6, TimePoint.MONTH_12: 3.9}
ANSWERED = 0.75

FREE_TEXT = {
    "helped_most": ["Having the same preceptor on my shifts for the first month.",
                    "The CT induction days and the protocol folder.",
                    "Being able to ask questions without feeling judged.",
                    "Regular check-ins with my preceptor, even short ones.",
                    "Shadowing the reporting radiographers on quieter afternoons."],
    "improve_programme": ["Protected time that is actually protected on busy lists.",
                          "Knowing earlier which study days are available.",
                          "A clearer list of what needs signing off and when.",
                          "More time on out-of-hours work before going solo.",
                          "Meeting the other new starters across both sites."],
}


def survey_history(today: date, *, skip: tuple[tuple[int, TimePoint], ...] = ()) -> int:
    """Add the closed waves of every programme, answered or not; returns the responses added.
    `skip` names (programme, wave) pairs the demo sets up by hand. Adds nothing twice."""
    own = random.Random("survey-history")  # not the planning sequence: a re-run plans the same trust
    template = survey_waves.current_template()
    questions = template.questions
    existing = set(db.session.execute(select(SurveyInvitation.preceptorship_id, SurveyInvitation.time_point)))
    programmes = db.session.scalars(select(Preceptorship).options(selectinload(Preceptorship.status_changes))
                                    .order_by(Preceptorship.id)).all()
    added = 0
    for programme in programmes:
        lean = own.uniform(-0.4, 0.4)  # some departments and people are happier than others
        for wave in survey_waves.waves(programme):
            key = (programme.id, wave.time_point)
            if wave.closes_on > today or key in existing or key in skip:
                continue
            if programme.ended_on is not None and wave.opens_on > programme.ended_on:
                continue  # they had left before this wave
            answered = own.random() < ANSWERED
            db.session.add(SurveyInvitation(
                preceptorship_id=programme.id, template_id=template.id, time_point=wave.time_point,
                opens_on=wave.opens_on, closes_on=wave.closes_on,
                answered_on=wave.opens_on + timedelta(days=own.randint(0, 9)) if answered else None))
            if not answered:
                continue
            response = SurveyResponse(id=secrets.token_hex(16), template_id=template.id, time_point=wave.time_point,
                                      department_id=programme.department_id,
                                      cohort=programme.start_date.strftime("%Y-%m"))
            db.session.add(response)
            db.session.flush()  # the response before its answers
            for question in questions:
                if question.qtype is QuestionType.AGREEMENT:
                    value = round(own.gauss(WAVE_MEAN[wave.time_point] + lean, 0.9))
                    db.session.add(SurveyAnswer(response_id=response.id, question_id=question.id,
                                                value_int=min(5, max(1, value))))
                elif question.code in FREE_TEXT and own.random() < 0.5:
                    db.session.add(SurveyAnswer(response_id=response.id, question_id=question.id,
                                                value_text=own.choice(FREE_TEXT[question.code])))
            added += 1
    return added
