from yingji.stats import urls_dashboard, urls_report

urlpatterns = urls_dashboard.urlpatterns + urls_report.urlpatterns
