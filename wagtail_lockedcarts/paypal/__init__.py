"""PayPal Orders v2: a thin HTTP client and the one function that turns PayPal's answer into a
cart transition (:func:`wagtail_lockedcarts.paypal.reconcile.reconcile_paypal_order`)."""
