from django.db.models import Q


def of_site(site):
    """``Q`` for the carts or orders of ``site``. Rows without a site (created before a site
    could be told, or on a site since deleted) belong to the default site."""
    condition = Q(site=site)
    if site.is_default_site:
        condition |= Q(site__isnull=True)
    return condition
