"""An offline stand-in for PayPal's Orders v2 API, hosted approval page and signed webhooks.

It lets the demo shop and the test suite drive the real ``wagtail_lockedcarts`` PayPal client
over HTTP on loopback, including the awkward cases: pending eCheck payments, declines, shoppers
who never come back, a captured amount that differs, and PayPal being slow or down (see
:mod:`paypal_sandbox.control`). Never deploy it on a public site.
"""
