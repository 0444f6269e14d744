"""Lock carts whose PayPal outcome is pending or unknown; resolve them in the Wagtail admin."""

__version__ = "0.1.0"
