"""The one Markdown table helper (the card and the agreement summary)."""

from builder.markdown import markdown_table


def test_a_table_renders_every_cell_with_str():
    assert markdown_table(["a", 1], [[None, 2.5], ["x", "y"]]) == (
        "| a | 1 |\n|---|---|\n| None | 2.5 |\n| x | y |"
    )


def test_a_table_without_rows_is_its_header():
    assert markdown_table(["only"], []) == "| only |\n|---|"
