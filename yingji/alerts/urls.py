from yingji.alerts import urls_alerts, urls_rollcall

urlpatterns = urls_alerts.urlpatterns + urls_rollcall.urlpatterns
