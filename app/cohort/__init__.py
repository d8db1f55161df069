"""Trial-level results: cohort ORR with exact CIs, best-response tables, the cohort view controller.

Owns: ``metrics`` (Qt-free statistics over many patients' timelines) and ``controller`` (what the
cohort window shows and exports).  May import: ``recist``, ``storage``, ``app.cli.export`` (timeline
loading), ``app.reports``.  Never Qt.
"""
