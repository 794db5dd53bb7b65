"""docs/coverage.md is generated from the code and must match it."""

from flotilla.coverage import DOC, render


def test_coverage_table_is_current():
    assert DOC.read_text() == render(), "run: .venv/bin/python -m flotilla.coverage --write"


def test_table_lists_every_model_operation_count():
    text = render()
    # 1,209 operations across the seven models of botocore 1.43
    totals = [int(line.split("|")[4]) for line in text.splitlines() if line.startswith("| ") and "`" in line]
    assert sum(totals) >= 1209
