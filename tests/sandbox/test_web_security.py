"""The sandbox is driven by its own page only: cross-site POSTs and foreign Host names are refused, and
uploads are served as attachments (an SVG is never rendered as a page). Issue 13."""

from __future__ import annotations

import aiohttp
import pytest

from tests.sandbox.conftest import Site

# The site fixture lives on the session's event loop (shared with the browser tests).
pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.xdist_group("browser")]

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'


async def test_cross_site_and_foreign_host_requests_are_refused(plain_site: Site) -> None:
    url = plain_site.url.rstrip("/")
    own = url  # http://127.0.0.1:port
    people = len(plain_site.sandbox.snapshot()["people"])
    async with aiohttp.ClientSession() as http:
        refused = [
            {"Origin": "https://evil.example"},
            {"Origin": "null"},
            {"Origin": own, "Sec-Fetch-Site": "cross-site"},
            {"Host": "evil.example"},  # DNS rebinding: a foreign name pointing at 127.0.0.1
        ]
        for headers in refused:
            async with http.post(f"{url}/api/users", json={"first_name": "Чужой"}, headers=headers) as resp:
                assert resp.status == 403, headers
            async with http.post(f"{url}/api/reset", json={}, headers=headers) as resp:
                assert resp.status == 403, headers
        async with http.get(f"{url}/api/state", headers={"Host": "evil.example"}) as resp:
            assert resp.status == 403
        assert len(plain_site.sandbox.snapshot()["people"]) == people
        # The page itself (its own origin) and a local tool without an Origin are served.
        async with http.post(
            f"{url}/api/users", json={"first_name": "Свой"}, headers={"Origin": own, "Sec-Fetch-Site": "same-origin"}
        ) as resp:
            assert resp.status == 200
        async with http.post(f"{url}/api/users", json={"first_name": "Скрипт"}) as resp:
            assert resp.status == 200
    assert len(plain_site.sandbox.snapshot()["people"]) == people + 2


async def test_uploads_are_served_as_attachments_and_svg_never_inline(plain_site: Site) -> None:
    url = plain_site.url.rstrip("/")
    parent = next(p for p in plain_site.sandbox.snapshot()["people"] if p["side"] != "staff")
    form = aiohttp.FormData()
    form.add_field("user_id", str(parent["id"]))
    form.add_field("chat_id", str(parent["id"]))
    form.add_field("file", SVG, filename="evil.svg", content_type="image/svg+xml")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/api/send", data=form) as resp:
            assert resp.status == 200, await resp.text()
        media = [
            m["media"]
            for m in plain_site.sandbox.snapshot()["messages"]
            if m.get("media") and m["media"].get("file_name") == "evil.svg"
        ]
        assert media, "the upload is in the chat"
        async with http.get(f"{url}/media/{media[0]['file_id']}") as resp:
            assert resp.status == 200
            assert resp.headers["Content-Disposition"].startswith("attachment")
            assert resp.content_type != "image/svg+xml"
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
            assert "sandbox" in resp.headers["Content-Security-Policy"]
