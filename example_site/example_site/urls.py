from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls

from shop import views as shop_views

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("cart/", include("wagtail_lockedcarts.urls")),
    path("paypal-sandbox/", include("wagtail_lockedcarts.contrib.paypal_sandbox.urls")),
    path("accounts/login/", shop_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", shop_views.LogoutView.as_view(), name="logout"),
    path("", include(wagtail_urls)),
]
