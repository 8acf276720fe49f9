def test_healthz(client):
    with client.get("/healthz") as r:
        assert r.status_code == 200
        assert r.get_data(as_text=True) == "ok"


def test_login_page_in_three_languages(client):
    for lang, word in (("en", "Log in"), ("zh-CN", "登录"), ("ja", "ログイン")):
        with client.get("/login", headers={"Accept-Language": lang}) as r:
            assert r.status_code == 200
            assert word in r.get_data(as_text=True), lang
