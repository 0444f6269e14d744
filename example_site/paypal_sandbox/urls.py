from django.urls import path

app_name = "paypal_sandbox"

urlpatterns: list = []
