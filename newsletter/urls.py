from django.urls import path

from newsletter.reader import views
from newsletter.reader.feed import PrivateFeed

app_name = "newsletter"

urlpatterns = [
    path("archive/", views.archive_index, name="archive"),
    path("archive/feed/", views.EditionFeed(), name="feed"),
    path("archive/<str:day>/", views.archive_edition, name="archive-edition"),
    path("digest/<str:token>/", views.view_in_browser, name="view"),
    path("feed/<str:token>/", PrivateFeed(), name="private-feed"),
]
