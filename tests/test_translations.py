"""The German catalog: complete, compilable, compiled, in step with the source, and what a
German-speaking shopper or admin actually sees.

When a test here fails after you changed a user-facing string, run ``scripts/messages.sh``,
translate the new entries in ``wagtail_lockedcarts/locale/de/LC_MESSAGES/django.po`` (remove
their ``#, fuzzy`` flag) and run the script again to compile the ``.mo``.
"""

import ast
import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import wagtail
from django.core.management import call_command
from django.test.utils import override_settings
from django.utils import translation

import wagtail_lockedcarts

PACKAGE = Path(wagtail_lockedcarts.__file__).resolve().parent
LC_MESSAGES = PACKAGE / "locale" / "de" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"
MO = LC_MESSAGES / "django.mo"
REFRESH = "run scripts/messages.sh, translate the new entries in the German django.po and run it again"

#: msgids we share with Wagtail's own catalogs but translate differently on purpose. Our catalog
#: comes first in INSTALLED_APPS, so any other difference would change Wagtail's admin wording.
DELIBERATELY_DIFFERENT_FROM_WAGTAIL = {
    "Cancelled",  # a cancelled payment; Wagtail's German says "Gelöscht" (deleted)
    "Locked at",  # a date column; Wagtail's German drops the "at"
    "Update",  # the shopper's quantity button; Wagtail's German keeps the English word
}


def read_po(path):
    """The entries of a .po file as dicts (msgctxt, msgid, msgid_plural, msgstr: list, flags).

    Enough of the format for catalogs written by makemessages; obsolete (``#~``) entries are
    skipped and the header (empty msgid) is left out."""
    entries, entry, field = [], None, None

    def finish():
        if entry is not None and "msgid" in entry:
            entries.append(entry)

    for line in Path(path).read_text(encoding="utf-8").splitlines() + [""]:
        line = line.strip()
        if not line:
            finish()
            entry, field = None, None
            continue
        if entry is None:
            entry = {"msgctxt": None, "msgid_plural": None, "msgstr": {}, "flags": set()}
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(field, int):
                entry["msgstr"][field] += value
            else:
                entry[field] += value
        else:
            keyword, _, value = line.partition(" ")
            match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            field = int(match.group(1)) if match else ("msgstr" if keyword == "msgstr" else keyword)
            if field == "msgstr":
                field = 0
            if isinstance(field, int):
                entry["msgstr"][field] = ast.literal_eval(value)
            else:
                entry[field] = ast.literal_eval(value)
    for entry in entries:
        entry["msgstr"] = [entry["msgstr"][n] for n in sorted(entry["msgstr"])]
    return [entry for entry in entries if entry["msgid"]]


def keys(entries):
    return {(entry["msgctxt"], entry["msgid"], entry["msgid_plural"]) for entry in entries}


def describe(missing):
    return "\n".join(
        f"  {msgid!r}" + (f" (context {ctx!r})" if ctx else "") for ctx, msgid, _ in sorted(missing, key=str)
    )


@pytest.fixture(scope="module")
def catalog():
    return read_po(PO)


# -- the catalog itself ------------------------------------------------------------------------


def test_catalog_compiles_with_placeholders_and_plural_forms_checked():
    result = subprocess.run(
        ["msgfmt", "--check-format", "--check-header", "--check-domain", "-o", "/dev/null", str(PO)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"' in PO.read_text(encoding="utf-8")
    assert '"Language: de\\n"' in PO.read_text(encoding="utf-8")


def test_every_entry_is_translated_and_none_is_fuzzy(catalog):
    assert len(catalog) > 250
    untranslated = [entry["msgid"] for entry in catalog if not all(entry["msgstr"])]
    fuzzy = [entry["msgid"] for entry in catalog if "fuzzy" in entry["flags"]]
    assert not untranslated, f"untranslated German entries ({REFRESH}): {untranslated}"
    assert not fuzzy, f"fuzzy German entries, check and unflag them: {fuzzy}"
    plurals = [entry for entry in catalog if entry["msgid_plural"]]
    assert plurals and all(len(entry["msgstr"]) == 2 for entry in plurals)


def test_python_format_placeholders_are_kept_exactly(catalog):
    """msgfmt only compares placeholder sets for entries flagged python-format; this also covers
    template strings and makes a dropped placeholder name the entry."""
    placeholder = re.compile(r"%\(\w+\)[sd]")
    for entry in catalog:
        wanted = sorted(placeholder.findall(entry["msgid"]))
        for text in entry["msgstr"]:
            assert sorted(placeholder.findall(text)) == wanted, entry["msgid"]


def test_compiled_mo_holds_exactly_the_po_translations(catalog):
    """A translated .po that nobody compiled would ship English."""
    compiled = gettext.GNUTranslations(MO.open("rb"))._catalog
    expected = {}
    for entry in catalog:
        msgid = entry["msgid"] if entry["msgctxt"] is None else f"{entry['msgctxt']}\x04{entry['msgid']}"
        if entry["msgid_plural"]:
            expected.update({(msgid, n): text for n, text in enumerate(entry["msgstr"])})
        else:
            expected[msgid] = entry["msgstr"][0]
    compiled.pop("", None)
    assert compiled == expected, f"django.mo is stale: {REFRESH}"


def test_catalog_covers_exactly_the_strings_in_the_source(catalog, tmp_path, monkeypatch):
    """makemessages over a fresh copy of the package must find the same msgids as the catalog."""
    copy = tmp_path / "wagtail_lockedcarts"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "locale"))
    (copy / "locale").mkdir()
    monkeypatch.chdir(copy)
    with override_settings(LOCALE_PATHS=[]):
        call_command("makemessages", locale=["de"], verbosity=0, no_obsolete=True)
    in_source = keys(read_po(copy / "locale" / "de" / "LC_MESSAGES" / "django.po"))
    in_catalog = keys(catalog)
    assert not in_source - in_catalog, f"strings missing from the German catalog ({REFRESH}):\n" + describe(
        in_source - in_catalog
    )
    assert not in_catalog - in_source, f"strings no longer in the source ({REFRESH}):\n" + describe(
        in_catalog - in_source
    )


def test_shared_msgids_keep_wagtails_german_wording(catalog):
    """Gettext catalogs are global: our German for a msgid Wagtail also uses replaces Wagtail's."""
    # Entries with a msgctxt are looked up as "context\x04msgid", so they cannot collide.
    ours = {
        entry["msgid"]: entry["msgstr"][0]
        for entry in catalog
        if not entry["msgid_plural"] and entry["msgctxt"] is None
    }
    wagtail_root = Path(wagtail.__file__).resolve().parent
    differing = {}
    for mo in wagtail_root.glob("**/locale/de/LC_MESSAGES/django.mo"):
        theirs = gettext.GNUTranslations(mo.open("rb"))._catalog
        for msgid, text in ours.items():
            if msgid in theirs and theirs[msgid] != text and msgid not in DELIBERATELY_DIFFERENT_FROM_WAGTAIL:
                differing[msgid] = (theirs[msgid], text)
    assert not differing, f"use Wagtail's German for these (Wagtail's, ours): {differing}"


# -- what German speakers see --------------------------------------------------------------------


@pytest.mark.django_db
def test_lifecycle_refuses_to_change_a_locked_cart_in_german(make_cart):
    from wagtail_lockedcarts import lifecycle
    from wagtail_lockedcarts.exceptions import CartNotEditable
    from wagtail_lockedcarts.models import CartStatus

    cart = make_cart(status=CartStatus.LOCKED)
    with pytest.raises(CartNotEditable) as raised:
        lifecycle.add_line(cart, cart.lines.first().product_key, 1)
    with translation.override("de"):
        assert str(raised.value.message) == (
            "Ihr Warenkorb ist gesperrt, während wir Ihre Zahlung bei PayPal prüfen. "
            "Wir melden uns bei Ihnen; bis dahin kann er nicht geändert werden."
        )


def test_lock_reasons_and_statuses_in_german():
    from wagtail_lockedcarts.models import CartStatus, LockReason, OrderStatus

    with translation.override("de"):
        assert [str(label) for label in LockReason.labels] == [
            "Zahlung ausstehend",
            "Keine Rückkehr von PayPal",
            "Betrag stimmt nicht überein",
            "Für einen früheren Bezahlvorgang bezahlt",
        ]
        assert str(CartStatus.LOCKED.label) == "Gesperrt"
        assert str(OrderStatus.ON_HOLD.label) == "Zurückgestellt"


def test_admin_menu_and_actions_in_german():
    from wagtail_lockedcarts.admin.display import CART_ADMIN_ACTIONS
    from wagtail_lockedcarts.models import Cart

    with translation.override("de"):
        assert str(Cart.snippet_viewset.menu_label) == "Warenkorbverwaltung"
        assert [str(action.label) for action in CART_ADMIN_ACTIONS] == [
            "Bestellung bestätigen",
            "Warenkorb entsperren",
            "Jetzt bei PayPal prüfen",
            "Warenkorb löschen",
        ]


@pytest.mark.django_db
def test_dashboard_speaks_german_to_an_admin_who_prefers_german(client, superuser, make_cart):
    from wagtail.users.models import UserProfile

    from wagtail_lockedcarts.models import CartStatus

    profile = UserProfile.get_for_user(superuser)
    profile.preferred_language = "de"
    profile.save()
    client.force_login(superuser)
    make_cart(status=CartStatus.LOCKED)

    html = client.get("/admin/").content.decode()
    assert re.search(r"\b1 gesperrter Warenkorb\s*</a>", html)
    assert "Gesperrte Warenkörbe" in html and "Zahlung ausstehend" in html and "Sperrdauer" in html

    make_cart(status=CartStatus.LOCKED)
    assert re.search(r"\b2 gesperrte Warenkörbe\s*</a>", client.get("/admin/").content.decode())


@pytest.mark.django_db
def test_dashboard_stays_english_for_other_admins(admin_client, make_cart):
    from wagtail_lockedcarts.models import CartStatus

    make_cart(status=CartStatus.LOCKED)
    html = admin_client.get("/admin/").content.decode()
    assert re.search(r"\b1 Locked cart\s*</a>", html) and "Warenkorb" not in html
