"""The dashboard's stylesheet is well formed: every rule is closed before the next begins.

A rule left open (an easy slip when two branches both append to the file) makes every later
rule a nested one, which browsers accept silently and apply only inside the open rule's
selector: whole screens lose their layout with no error anywhere.
"""

from __future__ import annotations

import re

from mercato.web.templating import STATIC_DIR

COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def _nesting_problems(css: str) -> list[str]:
    """Rules opened inside another style rule (nesting only under @-rules is ours), and
    unbalanced braces."""
    problems: list[str] = []
    open_rules: list[str] = []
    text = ""
    for char in COMMENT.sub("", css):
        if char == "{":
            selector = " ".join(text.rsplit(";", 1)[-1].split())
            if open_rules and not open_rules[-1].startswith("@"):
                problems.append(f"{selector!r} is nested in {open_rules[-1]!r}")
            open_rules.append(selector)
            text = ""
        elif char == "}":
            if not open_rules:
                problems.append("a '}' closes nothing")
            else:
                open_rules.pop()
            text = ""
        else:
            text += char
    problems.extend(f"{selector!r} is never closed" for selector in open_rules)
    return problems


def test_every_rule_of_the_dashboard_stylesheet_is_closed() -> None:
    css = (STATIC_DIR / "dashboard.css").read_text()
    assert _nesting_problems(css) == []


def test_the_check_finds_a_rule_left_open() -> None:
    broken = ".a {\n  color: red;\n\n.b {\n  color: blue;\n}\n"
    assert _nesting_problems(broken) == ["'.b' is nested in '.a'", "'.a' is never closed"]
    assert _nesting_problems("@media (max-width: 900px) {\n  .a { color: red; }\n}\n") == []
    assert _nesting_problems(".a { color: red; }\n}\n") == ["a '}' closes nothing"]
