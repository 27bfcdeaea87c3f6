"""Connection settings: shop forms, loopback-only http, token sources, the token kept hidden."""

from __future__ import annotations

import pickle

import pytest

from pipeline.errors import ConfigError
from pipeline.settings import ConnectionSettings, Secret, normalise_shop

TOKEN = "shpat_PLANTED_0123456789abcdef"
ENV = {"SHOPIFY_ACCESS_TOKEN": TOKEN}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("mystore", "https://mystore.myshopify.com"),
        ("mystore.myshopify.com", "https://mystore.myshopify.com"),
        ("https://mystore.myshopify.com", "https://mystore.myshopify.com"),
        ("  HTTPS://MyStore.myshopify.com/  ", "https://mystore.myshopify.com"),
        ("https://mystore.myshopify.com/admin", "https://mystore.myshopify.com"),
        ("https://mystore.myshopify.com:443", "https://mystore.myshopify.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:8080/", "http://localhost:8080"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        # Loopback without a scheme is the simulator, which speaks plain http.
        ("127.0.0.1:8787", "http://127.0.0.1:8787"),
        ("localhost:8787", "http://localhost:8787"),
        ("[::1]:8787", "http://[::1]:8787"),
        ("https://127.0.0.1:8787", "https://127.0.0.1:8787"),
        # The URL `simulator serve` prints, and a shop's GraphQL endpoint pasted whole.
        ("http://127.0.0.1:8787/admin/api/2026-07/graphql.json", "http://127.0.0.1:8787"),
        ("https://mystore.myshopify.com/admin/api/2026-07/graphql.json", "https://mystore.myshopify.com"),
    ],
)
def test_shop_forms_are_normalised(given, expected):
    assert normalise_shop(given) == expected


@pytest.mark.parametrize(
    "given",
    [
        "",
        "http://mystore.myshopify.com",  # plain http beyond loopback
        "https://example.com",  # the token would leave Shopify
        "https://mystore.myshopify.com.evil.com",
        "https://evil.com/mystore.myshopify.com",
        "https://user@mystore.myshopify.com",
        "https://mystore.myshopify.com/admin/orders",
        "https://mystore.myshopify.com:8443",
        "ftp://mystore.myshopify.com",
        "http://127.0.0.2:8080",
        "https://mystore.myshopify.com?x=1",
        "my store",
    ],
)
def test_unsafe_or_foreign_shops_are_refused(given):
    with pytest.raises(ConfigError):
        normalise_shop(given)


def test_defaults_and_endpoint():
    settings = ConnectionSettings.from_options(shop="mystore", environ=ENV)
    assert settings.api_version == "2026-07"
    assert settings.timeout == 30.0
    assert settings.endpoint == "https://mystore.myshopify.com/admin/api/2026-07/graphql.json"
    assert settings.shop == "mystore.myshopify.com"
    assert settings.token.reveal() == TOKEN


def test_environment_supplies_shop_and_version_and_options_win():
    env = {**ENV, "SHOPIFY_SHOP": "envstore", "SHOPIFY_API_VERSION": "2026-04"}
    assert ConnectionSettings.from_options(environ=env).shop_url == "https://envstore.myshopify.com"
    assert ConnectionSettings.from_options(environ=env).api_version == "2026-04"
    chosen = ConnectionSettings.from_options(shop="optstore", api_version="2026-07", timeout=5, environ=env)
    assert (chosen.shop, chosen.api_version, chosen.timeout) == ("optstore.myshopify.com", "2026-07", 5.0)


def test_token_file_wins_over_environment(tmp_path):
    path = tmp_path / "token"
    path.write_text("shpat_from_file\n", encoding="utf-8")
    settings = ConnectionSettings.from_options(shop="mystore", token_file=path, environ=ENV)
    assert settings.token.reveal() == "shpat_from_file"


@pytest.mark.parametrize(
    ("options", "environ", "words"),
    [
        ({"shop": "mystore"}, {}, "SHOPIFY_ACCESS_TOKEN"),
        ({}, ENV, "--shop"),
        ({"shop": "mystore", "api_version": "latest"}, ENV, "API version"),
        ({"shop": "mystore", "timeout": 0}, ENV, "timeout"),
        ({"shop": "mystore"}, {"SHOPIFY_ACCESS_TOKEN": "shpat_a\nX-Evil: 1"}, "control"),
    ],
)
def test_bad_settings_are_config_errors(options, environ, words):
    with pytest.raises(ConfigError, match=words):
        ConnectionSettings.from_options(**options, environ=environ)


def test_missing_or_empty_token_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read token file"):
        ConnectionSettings.from_options(shop="mystore", token_file=tmp_path / "absent", environ={})
    (tmp_path / "empty").write_text("  \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="empty"):
        ConnectionSettings.from_options(shop="mystore", token_file=tmp_path / "empty", environ={})


def test_the_token_never_shows():
    settings = ConnectionSettings.from_options(shop="mystore", environ=ENV)
    for text in (
        repr(settings),
        str(settings),
        f"{settings.token}",
        f"{settings.token!r}",
        str(vars_of(settings)),
    ):
        assert TOKEN not in text
    assert repr(settings.token) == str(settings.token) == "<hidden>"
    assert Secret(TOKEN) == settings.token
    with pytest.raises(TypeError):
        pickle.dumps(settings.token)


def test_a_bad_token_is_refused_without_echoing_it():
    secret = "shpat_SECRET with space"
    with pytest.raises(ConfigError) as caught:
        ConnectionSettings.from_options(shop="mystore", environ={"SHOPIFY_ACCESS_TOKEN": secret})
    assert "SECRET" not in str(caught.value)


def vars_of(settings: ConnectionSettings) -> dict:
    return {name: getattr(settings, name) for name in settings.__slots__}
