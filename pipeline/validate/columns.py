"""The input file's vocabulary: canonical columns, their EN/FR header aliases and value words (SPEC §5)."""

from __future__ import annotations

import re
import unicodedata

from pipeline.models import Action, Reason, RefundMode

ORDER = "order"
ORDER_ID = "order_id"
REFUND_MODE = "refund_mode"
ACTION = "action"
AMOUNT = "amount"
CURRENCY = "currency"
LINES = "lines"
SHIPPING = "shipping"
RESTOCK = "restock"
NOTIFY = "notify"
REASON = "reason"
NOTE = "note"
#: written by `select` (SPEC §14): whether every line of the order is affected; read by --only-sku.
ALL_LINES_AFFECTED = "all_lines_affected"

#: Canonical columns in the order the template and reports show them.
COLUMNS = (
    ORDER,
    ORDER_ID,
    REFUND_MODE,
    ACTION,
    AMOUNT,
    CURRENCY,
    LINES,
    SHIPPING,
    RESTOCK,
    NOTIFY,
    REASON,
    NOTE,
)

_HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    ALL_LINES_AFFECTED: ("all_lines_affected", "all lines affected"),
    ORDER: (
        "order",
        "order number",
        "order name",
        "order no",
        "order #",
        "name",
        "commande",
        "numéro de commande",
        "n° commande",
        "n° de commande",
        "no commande",
        "numéro commande",
        "n° de la commande",
    ),
    ORDER_ID: ("order id", "id", "shopify id", "legacy id", "shopify order id", "id commande"),
    REFUND_MODE: (
        "refund mode",
        "refund",
        "mode",
        "refund method",
        "refund type",
        "remboursement",
        "mode de remboursement",
        "type de remboursement",
        "méthode de remboursement",
    ),
    ACTION: ("action", "opération", "operation"),
    AMOUNT: ("amount", "refund amount", "montant", "montant du remboursement", "montant remboursé"),
    CURRENCY: ("currency", "devise", "monnaie"),
    LINES: ("lines", "line items", "items", "skus", "sku", "articles", "lignes", "produits"),
    SHIPPING: ("shipping", "refund shipping", "livraison", "frais de port", "rembourser la livraison"),
    RESTOCK: ("restock", "réapprovisionner", "remise en stock", "remettre en stock"),
    NOTIFY: ("notify", "notify customer", "notifier", "prévenir le client", "notifier le client"),
    REASON: ("reason", "cancel reason", "motif", "raison", "motif d'annulation"),
    NOTE: (
        "note",
        "notes",
        "staff note",
        "comment",
        "comments",
        "commentaire",
        "commentaires",
        "note interne",
    ),
}


def fold(text: str) -> str:
    """Case-, accent-, space- and punctuation-insensitive form of a header or value word."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch)).casefold()


HEADER_KEYS: dict[str, str] = {
    fold(alias): column for column, aliases in _HEADER_ALIASES.items() for alias in aliases
}


def match_header(text: str) -> str | None:
    """The canonical column a header cell names, or None."""
    return HEADER_KEYS.get(fold(text))


def aliases(column: str) -> tuple[str, ...]:
    """The header aliases accepted for one canonical column."""
    return _HEADER_ALIASES[column]


def _words(table: dict[object, tuple[str, ...]]) -> dict[str, object]:
    return {fold(word): value for value, words in table.items() for word in words}


#: `partial` is `original` with an amount or lines required; it gets its own marker.
PARTIAL = "partial"

MODE_WORDS = _words(
    {
        RefundMode.ORIGINAL: (
            "original",
            "original_payment",
            "original payment",
            "original payment method",
            "card",
            "mode de paiement d'origine",
            "origine",
            "paiement d'origine",
            "carte",
        ),
        RefundMode.STORE_CREDIT: (
            "store_credit",
            "store credit",
            "credit",
            "crédit en magasin",
            "avoir",
            "crédit",
        ),
        RefundMode.GIFT_CARD: (
            "gift_card",
            "gift card",
            "giftcard",
            "carte-cadeau",
            "carte cadeau",
            "bon d'achat",
        ),
        RefundMode.NONE: (
            "none",
            "no_refund",
            "no refund",
            "aucun",
            "sans remboursement",
            "pas de remboursement",
        ),
        PARTIAL: ("partial", "partial refund", "partiel", "remboursement partiel"),
    }
)

ACTION_WORDS = _words(
    {
        Action.CANCEL: ("cancel", "cancellation", "annuler", "annulation"),
        Action.REFUND_ONLY: ("refund_only", "refund only", "refund", "rembourser", "remboursement seul"),
    }
)

REASON_WORDS = _words(
    {
        Reason.CUSTOMER: ("customer", "client", "demande client"),
        Reason.INVENTORY: ("inventory", "stock", "rupture", "rupture de stock", "out of stock"),
        Reason.FRAUD: ("fraud", "fraude"),
        Reason.DECLINED: ("declined", "refusé", "paiement refusé", "payment declined"),
        Reason.STAFF: ("staff", "personnel", "staff error", "erreur"),
        Reason.OTHER: ("other", "autre"),
    }
)

YES_NO_WORDS = _words(
    {
        True: ("yes", "y", "true", "1", "x", "oui", "vrai"),
        False: ("no", "n", "false", "0", "non", "faux"),
    }
)

# Zero-width and no-break characters that survive copy-paste from web pages and Excel.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile("[\u00a0\u202f\u2007]")


def clean_cell(text: str) -> str:
    """Trim, NFC-normalise, drop invisible characters and map no-break spaces to spaces."""
    if not text.isascii():
        text = _SPACES.sub(" ", _INVISIBLE.sub("", unicodedata.normalize("NFC", text)))
    return text.strip()


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]+")


def clean_note(text: str) -> str:
    """A note keeps every character (the ZWJ inside 👨‍👩‍👧 too) but control characters; NFC, trimmed."""
    return _CONTROL.sub(" ", unicodedata.normalize("NFC", text)).strip()


#: The note of the template's example row; a file that still holds it is refused (it names a real order).
TEMPLATE_EXAMPLE_NOTE = "Example row from the template: delete it"
