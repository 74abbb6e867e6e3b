"""Answer-quality evaluation: suites of hand-written cases, metrics, reports, RealTimeQA."""
