"""One quick look at the shop before any work: unreachable or refused is said at once, exit 2 (SPEC §3).

Every command that talks to the shop starts here. The answer's own words (our document names, HTTP
codes) are rewritten into the merchant's: where it is, what is wrong, what to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.settings import ConnectionSettings
    from pipeline.shopify.readiness import ShopState

PROBE = "Readiness"  # the document read: scopes, currencies, versions; one small query


def shop_state(settings: ConnectionSettings) -> ShopState:
    """What the shop says about itself and the token, in one try (ConfigError, exit 2, when it cannot)."""
    from pipeline.errors import (
        AuthError,
        ConfigError,
        NoAnswerError,
        ShopifyError,
        TokenRefusedError,
        TransientError,
        UnreachableError,
    )
    from pipeline.shopify.client import ShopifyClient
    from pipeline.shopify.readiness import ShopState
    from pipeline.shopify.retry import execute_with_retry

    shop = settings.shop_url
    try:
        with ShopifyClient(settings) as client:
            try:  # one try: a shop that cannot be reached is said at once, not after a minute of retries
                answer = client.execute(PROBE, {}, mutation=False)
            except (UnreachableError, NoAnswerError):  # the address or the network: said at once
                raise
            except TransientError:  # a busy bucket or one 5xx is no connection problem: try again
                answer = execute_with_retry(client, PROBE, {}, mutation=False)
    except UnreachableError as exc:
        raise ConfigError(f"cannot reach {shop}: {exc.reason}") from None
    except TokenRefusedError:
        raise ConfigError(
            f"{shop}: the shop refused the access token — check SHOPIFY_ACCESS_TOKEN or --token-file"
        ) from None
    except AuthError:
        raise ConfigError(
            f"{shop}: the access token lacks a scope or permission it needs — "
            "`bulkcancel doctor` lists what the tool needs"
        ) from None
    except ShopifyError as exc:
        raise ConfigError(f"cannot use {shop}: {merchant_words(str(exc))}") from None
    return ShopState.from_answer(answer.data, answer.cost, settings.api_version)


def merchant_words(text: str) -> str:
    """A client error without the name of our GraphQL document in front (`Readiness: HTTP 503 …`)."""
    head, _, rest = text.partition(": ")
    return rest if rest and head.isidentifier() and head[:1].isupper() else text
