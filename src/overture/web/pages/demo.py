"""The demo website served by `overture demo` at /demo: a fictional B2B company's pages (home, product, pricing,
blog), each with the widget's snippet, as a customer would embed it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from overture.errors import NotFound

router = APIRouter(include_in_schema=False)

# What a customer's strict policy would allow for the widget: its script and its calls to the Overture host (here
# the same origin). The demo's own styles are inline.
DEMO_CSP = (
    "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; base-uri 'none'; object-src 'none'; frame-ancestors 'self'"
)

POSTS = {
    "why-dashboards-fail": "Why most sales dashboards fail (and the three numbers that don't)",
    "lead-scoring-without-the-guesswork": "Lead scoring without the guesswork",
}


def _page(request: Request, template: str, **values: object) -> Response:
    response: Response = request.app.state.context.templates.TemplateResponse(request, template, values)
    response.headers["Content-Security-Policy"] = DEMO_CSP
    return response


@router.get("/demo")
def demo_home(request: Request) -> Response:
    return _page(request, "demo/index.html")


@router.get("/demo/product")
def demo_product(request: Request) -> Response:
    return _page(request, "demo/product.html")


@router.get("/demo/pricing")
def demo_pricing(request: Request) -> Response:
    return _page(request, "demo/pricing.html")


@router.get("/demo/blog")
def demo_blog(request: Request) -> Response:
    return _page(request, "demo/blog.html", posts=POSTS)


@router.get("/demo/blog/{slug}")
def demo_post(request: Request, slug: str) -> Response:
    if slug not in POSTS:
        raise NotFound("There is no such article on the demo blog.")
    return _page(request, f"demo/posts/{slug}.html", title=POSTS[slug], posts=POSTS)
