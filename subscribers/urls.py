from django.urls import path

from subscribers import views

app_name = "subscribers"

urlpatterns = [
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscribe/check-inbox/", views.check_inbox, name="check-inbox"),
    path("subscribe/preview/", views.signup_preview, name="signup-preview"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("manage/", views.manage_request, name="manage-request"),
    path("manage/sent/", views.manage_sent, name="manage-sent"),
    path("manage/<str:token>/", views.manage, name="manage"),
    path("manage/<str:token>/export/", views.manage_export, name="export"),
    path("manage/<str:token>/delete/", views.manage_delete, name="delete"),
    path("manage/<str:token>/resubscribe/", views.manage_resubscribe, name="resubscribe"),
    path("manage/<str:token>/votes/", views.manage_votes, name="votes"),
    path("manage/<str:token>/feed/", views.manage_feed, name="manage-feed"),
    path("manage/<str:token>/rate/", views.rate, name="rate"),
    path("feedback/<str:token>/", views.feedback, name="feedback"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("unsubscribe/<str:token>/one-click/", views.one_click_unsubscribe, name="one-click"),
]
