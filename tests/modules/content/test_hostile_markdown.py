"""Hostile Markdown is neutralised: nothing a browser would execute survives rendering."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from mercato.modules.content import render_markdown
from tests.factories import create_api_key, create_tenant, signup_and_login

HOSTILE = {
    "script tag": "<script>alert(1)</script>",
    "script in markdown block": "Hello\n\n<script src=https://evil.example/x.js></script>\n",
    "javascript link": "[click](javascript:alert(1))",
    "javascript link, mixed case": '<a href="JaVaScRiPt:alert(1)">x</a>',
    "javascript link, entity encoded": '<a href="&#106;avascript:alert(1)">x</a>',
    "javascript link, tab in scheme": '<a href="java\tscript:alert(1)">x</a>',
    "vbscript link": "[x](vbscript:msgbox(1))",
    "onerror attribute": "<img src=x onerror=alert(1)>",
    "onerror via markdown image title": '![a](x "t" onerror="alert(1)")',
    "onload on body": "<body onload=alert(1)>",
    "onclick on paragraph": '<p onclick="alert(1)">hi</p>',
    "onmouseover on link": '<a href="https://ok.example" onmouseover="alert(1)">x</a>',
    "iframe": '<iframe src="https://evil.example"></iframe>',
    "iframe srcdoc": '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "svg onload": "<svg onload=alert(1)><circle r=1></circle></svg>",
    "svg script": "<svg><script>alert(1)</script></svg>",
    "svg foreignObject": "<svg><foreignObject><iframe src=javascript:x></foreignObject></svg>",
    "svg data image": "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "data html link": "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "data png image": "![x](data:image/png;base64,iVBORw0KGgo=)",
    "object": '<object data="javascript:alert(1)"></object>',
    "embed": '<embed src="https://evil.example/x.swf">',
    "form": '<form action="https://evil.example"><input name=p></form>',
    "style tag": "<style>body{background:url(javascript:alert(1))}</style>",
    "style attribute": '<div style="background:url(javascript:alert(1))">x</div>',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "base href": '<base href="javascript:alert(1)//">',
    "math xlink": '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "template": "<template><script>alert(1)</script></template>",
    "unclosed tag trick": '<img src="x" alt="<script>alert(1)</script>"',
    "comment trick": "<!--><script>alert(1)</script>-->",
}
SAFE_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd",
    "li", "mark", "ol", "p", "pre", "s", "small", "span", "strong", "sub", "summary", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src"}
SAFE_SCHEMES = {"http", "https", "mailto", "tel"}


class _Inspector(HTMLParser):
    """What a browser would act on: tags, attributes and URLs (entities decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in SAFE_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                self.problems.append(f"attribute {name}")
            if name in URL_ATTRIBUTES and value is not None:
                compact = re.sub(r"[\x00-\x20]", "", value).lower()
                scheme = compact.split(":", 1)[0] if ":" in compact.split("/", 1)[0] else None
                if scheme is not None and scheme not in SAFE_SCHEMES:
                    self.problems.append(f"{name}={value!r}")


def executable_parts(html: str) -> list[str]:
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector.problems


@pytest.mark.parametrize("markdown", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_markdown_renders_to_nothing_executable(markdown: str) -> None:
    html = render_markdown(markdown)
    assert executable_parts(html) == [], html


def test_the_inspector_itself_catches_what_it_looks_for() -> None:
    raw = '<p onclick="x"><a href=" jav&#x09;ascript:alert(1)">a</a><script></script></p>'
    assert executable_parts(raw) == [
        "attribute onclick",
        "href=' jav\\tascript:alert(1)'",
        "tag <script>",
    ]


def test_safe_markdown_keeps_its_meaning() -> None:
    html = render_markdown(
        "## Returns\n\n- 30 days\n- free\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "<details><summary>More</summary>Details</details>\n\n"
        "![logo](https://cdn.example/logo.png) [mail](mailto:help@shop.example)"
    )
    assert "<h2>Returns</h2>" in html
    assert "<li>30 days</li>" in html
    assert "<td>1</td>" in html
    assert "<details><summary>More</summary>Details</details>" in html
    assert '<img src="https://cdn.example/logo.png" alt="logo">' in html
    assert 'href="mailto:help@shop.example"' in html


async def test_hostile_page_is_stored_and_served_neutralised(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    body = "\n\n".join(HOSTILE.values())
    created = await client.post(
        f"/api/v1/tenants/{tenant}/pages",
        json={"slug": "evil", "title": "<script>x</script>", "body": body, "status": "published"},
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["body"] == body  # the source is kept as written
    assert executable_parts(created.json()["html"]) == []
    key = await create_api_key(
        client, owner, tenant, kind="publishable", allowed_origins=["https://s.example"]
    )
    public = await client.get(
        f"/api/v1/tenants/{tenant}/public/pages/evil",
        headers={"X-API-Key": key["key"], "Origin": "https://s.example"},
    )
    assert public.status_code == 200
    assert executable_parts(public.json()["html"]) == []
