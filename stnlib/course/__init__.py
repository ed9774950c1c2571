"""The course machinery: what the notebooks and the ``stn-course`` command use.

* :mod:`stnlib.course.budgets`   smoke / standard / full, defined once
* :mod:`stnlib.course.lesson`    :func:`start_lesson`
* :mod:`stnlib.course.results`   :func:`record`, :func:`report`
* :mod:`stnlib.course.checking`  exercise checks and the feedback a student sees
* :mod:`stnlib.course.runner`    ``stn-course run`` and ``check-env``
* :mod:`stnlib.course.notebooks` ``make-lessons`` and ``store-outputs``
* :mod:`stnlib.course.bench`, :mod:`stnlib.course.demo`, :mod:`stnlib.course.cli`

In a notebook::

    from stnlib import course
    course.record("test error, ST-CNN", 1.4, paper=0.5, unit="%", higher_is_better=False)

It builds on the library (``stnlib``), never the reverse.
"""

from .lesson import LessonContext, current_lesson, start_lesson
from .results import record, report, results_path

__all__ = ["LessonContext", "current_lesson", "start_lesson", "record", "report", "results_path"]
