"""Signals for integrators. All are sent after the transaction that caused them commits."""

from django.dispatch import Signal

#: sender=Cart, cart=<Cart>, reason=<LockReason>
cart_locked = Signal()
#: sender=Cart, cart=<Cart>, user=<User or None>
cart_unlocked = Signal()
#: sender=Order, order=<Order>, cart=<Cart, or None for an order made from an unmatched payment
#: whose cart was deleted>, user=<User or None>
order_created = Signal()
#: sender=Cart, cart_id=<int>, snapshot=<dict>, user=<User or None>
cart_deleted = Signal()
#: sender=Order, order_id=<int>: an order was submitted (or re-submitted) for export.
#: ``wagtail_lockedcarts.background.tasks`` queues the export; the domain never imports the queue.
order_submitted = Signal()
