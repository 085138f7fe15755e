"""Log-in, log-out, sessions and CSRF against the real server."""

from __future__ import annotations

import httpx

from tests.web_support import PASSWORD, WebTest, login


def test_login_lands_each_role_on_its_home_page(web: WebTest) -> None:
    for username, home in (("jxb", "/ledger"), ("ywk", "/my"), ("fyz", "/dashboard")):
        with httpx.Client(base_url=web.base) as c:
            response = login(c, username)
            assert response.status_code == 303
            assert response.headers["location"] == home


def test_wrong_password_is_refused_with_one_message(web: WebTest) -> None:
    with httpx.Client(base_url=web.base) as c:
        wrong = login(c, "jxb", "not-the-password")
        unknown = login(c, "nobody", "not-the-password")
        assert wrong.status_code == unknown.status_code == 401
        assert "用户名或密码错误" in wrong.text and "用户名或密码错误" in unknown.text
        assert "rf_session" not in c.cookies


def test_pages_need_a_session(web: WebTest) -> None:
    with httpx.Client(base_url=web.base) as c:
        response = c.get("/ledger?state=assigned")
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=%2Fledger%3Fstate%3Dassigned"


def test_login_without_its_form_token_is_refused(web: WebTest) -> None:
    with httpx.Client(base_url=web.base) as c:
        response = c.post("/login", data={"username": "jxb", "password": PASSWORD, "csrf": "forged"})
        assert response.status_code == 403
        assert "rf_session" not in c.cookies


def test_logout_needs_the_session_form_token_and_ends_the_session(web: WebTest) -> None:
    with web.client("jxb") as c:
        assert c.post("/logout", data={"csrf": "forged"}).status_code == 403
        token = c.get("/ledger").text.split('name="csrf" value="')[1].split('"')[0]
        c.post("/logout", data={"csrf": token})
        response = c.get("/ledger", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_only_a_local_path_follows_the_login(web: WebTest) -> None:
    with httpx.Client(base_url=web.base) as c:
        c.get("/login")
        response = c.post("/login", data={"username": "jxb", "password": PASSWORD, "next": "//evil.example/x",
                                          "csrf": c.cookies.get("rf_login_csrf", "")})  # fmt: skip
        assert response.headers["location"] == "/ledger"


def test_an_error_page_keeps_the_logged_in_users_nav_bar(web: WebTest) -> None:
    with web.client("ywk") as c:
        missing = c.get("/items/999999")
    assert missing.status_code == 404
    assert "赵立新（科室人员）" in missing.text and 'action="/logout"' in missing.text
