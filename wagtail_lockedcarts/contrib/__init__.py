"""Optional add-on apps shipped with wagtail-lockedcarts."""
