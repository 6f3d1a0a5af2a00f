from django.urls import path

from . import feeds, views

app_name = "alertes"

urlpatterns = [
    path("", views.index, name="index"),
    path("archives/", views.archive, name="archive"),
    path("<int:pk>/", views.detail, name="detail"),
    path("abonnement/", views.subscription, name="subscription"),
    path("messages-recus/", views.received_messages, name="messages"),
    path("abonnement/notifications/", views.push_subscribe, name="push_subscribe"),
    path("abonnement/notifications/changement/", views.push_change, name="push_change"),
    path("abonnement/courriel/<str:token>/", views.verify_email, name="verify_email"),
    path("desabonnement/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("twilio/entrant/", views.twilio_inbound, name="twilio_inbound"),
    path("twilio/statut/", views.twilio_status, name="twilio_status"),
    path("twilio/appel/<int:pk>/", views.voice_twiml, name="voice_twiml"),
    path("twilio/appel/<int:pk>/touche/", views.voice_gather, name="voice_gather"),
    path("twilio/appel/statut/", views.voice_status, name="voice_status"),
    path("flux.atom", feeds.CurrentAlertsFeed(), name="atom"),
    path("cap.atom", views.cap_feed, name="cap_feed"),
    path("cap/<int:pk>.xml", views.cap_alert, name="cap_alert"),
]
