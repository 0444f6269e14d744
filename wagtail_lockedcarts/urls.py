from django.urls import path

from .views import storefront

app_name = "wagtail_lockedcarts"

urlpatterns = [
    path("", storefront.CartView.as_view(), name="cart"),
    path("add/", storefront.add_line, name="add_line"),
    path("update/", storefront.update_line, name="update_line"),
    path("remove/", storefront.remove_line, name="remove_line"),
]
