"""The companion modules of the lessons: one per notebook, named after it.

``stnlib.lessons.l03_distorted_mnist`` belongs to ``solutions/03_distorted_mnist.ipynb``:
that lesson's exercise checks (with the reference each compares with and the
hints for the typical mistakes), its budget table (only how it differs from
the defaults in :mod:`stnlib.course.budgets`), the paper values it records
against, and its experiment helpers. A lesson module builds on the library
(``stnlib``) and the course machinery (``stnlib.course``); neither imports it.
"""
