from django.contrib.auth import views as auth_views


class LoginView(auth_views.LoginView):
    template_name = "shop/login.html"
    redirect_authenticated_user = True
    # Without a ?next=, go back to the shop rather than Django's /accounts/profile/.
    next_page = "/"


class LogoutView(auth_views.LogoutView):
    next_page = "/"
