"""The README's install path, walked on a fresh ``wagtail start`` project.

Every step comes out of README.md (``tests/dropin_project.py`` reads the snippets between the
``dropin:`` markers), so a README that stops working fails this test. The project runs in its
own processes (``manage.py`` commands and ``runserver``) on its own SQLite database, with the
package as installed, and the shopper is a ``requests`` session over HTTP.
"""

import html
import re

import pytest
import requests

from tests.dropin_project import Project, build, free_port, readme_snippets

pytestmark = pytest.mark.install

BUTTON = re.compile(r'<button type="submit" name="action" value="(?P<value>[a-z_]+)"[^>]*>(?P<label>[^<]+)</button>')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="(?P<token>[^"]+)"')


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    project, outputs = build(tmp_path_factory.mktemp("wagtail-start"), free_port())
    project.outputs = outputs
    project.serve()
    yield project
    project.stop()


def post(session, url, data, page):
    token = CSRF.search(page)["token"]
    return session.post(url, data={**data, "csrfmiddlewaretoken": token}, allow_redirects=False, timeout=30)


def notices(page):
    return [html.unescape(m) for m in re.findall(r'<li class="lockedcarts-notice__item[^"]*">([^<]+)</li>', page)]


def test_the_readme_has_every_step_the_test_applies():
    assert set(readme_snippets()) >= {
        "settings-minimal",
        "settings-complete",
        "settings-sandbox",
        "urls",
        "model",
        "product-template",
        "base-template",
        "commands",
    }
    for name, body in readme_snippets().items():
        assert "os.environ[" not in body, f"{name}: manage.py must run without the environment variables"


def test_the_minimal_settings_pass_check_without_errors(tmp_path):
    project = Project(tmp_path, free_port())
    project.create()
    project.apply_settings("settings-minimal")
    project.apply_rest()

    output = project.run("check").stderr  # exits non-zero on any error

    assert "wagtail_lockedcarts.E" not in output
    assert "wagtail_lockedcarts.W010" in output, "the minimal block leaves SQLite's transaction mode alone"


def test_the_packages_permission_policies_are_in_force_whatever_the_app_order(project):
    """The README appends the app after wagtail.admin: our hooks load before our ready()."""
    policies = project.shell(
        "from wagtail.permissions import policy_registry as r; "
        "from wagtail_lockedcarts.models import Cart, Order; "
        "print(type(r.get_by_type(Cart)).__name__, type(r.get_by_type(Order)).__name__)"
    )
    assert policies == "CartPermissionPolicy OrderPermissionPolicy"


def test_the_complete_settings_leave_nothing_for_check_to_report(project):
    output = project.outputs["check"].stdout + project.outputs["check"].stderr
    assert "wagtail_lockedcarts." not in output, output
    assert "Applying wagtail_lockedcarts.0001_initial" in project.outputs["migrate"].stdout


def test_add_to_cart_checkout_through_the_sandbox_confirm_and_notice(project):
    shopper = requests.Session()

    # The home page is now a product: its add-to-cart form comes from {% add_to_cart_form page %}.
    home = shopper.get(project.url("/"), timeout=30)
    assert home.status_code == 200 and 'class="lockedcarts-add"' in home.text
    assert 'data-cart-count="0"' in home.text  # {% cart_summary %} in the site's base.html
    added = post(
        shopper,
        project.url("/cart/add/"),
        {"product": re.search(r'name="product" value="([^"]+)"', home.text)[1], "quantity": 2, "next": "/"},
        home.text,
    )
    assert added.status_code == 302

    # The cart page is styled by the site's own base.html and the package's stylesheet.
    cart_page = shopper.get(project.url("/cart/"), timeout=30)
    assert cart_page.status_code == 200
    assert "css/mysite.css" in cart_page.text, "the cart page extends the project's base.html"
    assert "wagtail_lockedcarts/css/storefront.css" in cart_page.text
    assert "25.00 EUR" in cart_page.text and 'data-cart-count="2"' in cart_page.text
    assert notices(cart_page.text) == ["Added to your cart."]

    # Checkout: to the sandbox's approval page, pay with a pending eCheck, back to the shop.
    to_paypal = post(shopper, project.url("/cart/checkout/"), {}, cart_page.text)
    assert to_paypal.status_code == 302 and "/paypal-sandbox/" in to_paypal.headers["Location"]
    approval = shopper.get(to_paypal.headers["Location"], timeout=30)
    buttons = {html.unescape(m["label"]): m["value"] for m in BUTTON.finditer(approval.text)}
    back = post(shopper, to_paypal.headers["Location"], {"action": buttons["Pay – pending (eCheck)"]}, approval.text)
    assert back.status_code == 302 and "/cart/paypal/return/" in back.headers["Location"]
    returned = shopper.get(back.headers["Location"], timeout=30)
    assert returned.status_code == 200 and "Your payment is pending" in html.unescape(returned.text)
    assert project.shell("from wagtail_lockedcarts.models import Cart; print(Cart.objects.get().status)") == "locked"

    # An admin confirms the locked cart (another process); the shopper's next page says so.
    order = project.shell(
        "from wagtail_lockedcarts import lifecycle; from wagtail_lockedcarts.models import Cart; "
        "print(lifecycle.confirm_order(Cart.objects.get()).order.pk)"
    )
    after = shopper.get(project.url("/"), timeout=30)
    assert notices(after.text) == [f"Your order {order} was confirmed. Thank you!"]
    assert 'data-cart-count="0"' in after.text
    assert notices(shopper.get(project.url("/"), timeout=30).text) == []
