"""A dot leader drawn as one run of text instead of one box per dot.

The contents, the dividers' lists and the indexes draw ``leader(". ")`` between a title and
its page number. WeasyPrint 70 fills the gap with one copy of the text box per ". ", each drawn,
written and tagged on its own: at 400 sheets the contents document (26 pages) took 6.1 s to lay
out and write, 2.3 s without its leaders, and its PDF was 507 KB against 193 KB. This wraps the
function that places them (``weasyprint.layout.inline.handle_leader``, for the pinned WeasyPrint
only) so that, once it has placed the copies, they become one box holding their text, placed
where the leftmost copy was: the same dots on the same grid (WeasyPrint aligns them on the
line's right edge), drawn as one run of text.
"""

from __future__ import annotations

from typing import Any

#: the WeasyPrint release whose leader function this wraps (pyproject.toml pins it)
WEASYPRINT = "70.0"


def install() -> bool:
    """Wrap WeasyPrint's leader placing once; False when its version is not the one known."""
    import weasyprint
    from weasyprint.layout import inline, leader

    if getattr(inline.handle_leader, "recueil_leaders", False):
        return True
    if weasyprint.__version__ != WEASYPRINT:
        return False
    place = inline.handle_leader

    def one_run(context: Any, line: Any, containing_block: Any) -> None:
        place(context, line, containing_block)
        _, box = leader.leader_index(line)
        if box is not None and len(box.children) > 1:
            box.children = (_joined(context, box.children),)

    one_run.recueil_leaders = True  # type: ignore[attr-defined]
    inline.handle_leader = one_run
    return True


def _joined(context: Any, copies: tuple[Any, ...]) -> Any:
    """One text box with the text of ``copies`` (WeasyPrint's copies of the leader's text
    box, side by side on one line), where the leftmost of them is."""
    from weasyprint.text.line_break import split_first_line

    ordered = sorted(copies, key=lambda copy: copy.position_x)
    first = ordered[0]
    text = "".join(copy.text for copy in ordered)
    layout, _, _, width, _, _ = split_first_line(
        text, first.style, context, None, first.justification_spacing, is_line_start=False
    )
    joined = first.copy_with_text(text)
    joined.pango_layout = layout
    joined.width = width
    return joined
