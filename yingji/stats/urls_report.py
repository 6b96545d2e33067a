from django.urls import path

from yingji.stats import views_report

urlpatterns = [
    path("reports/", views_report.reports, name="stats-reports"),
    path("reports/download/", views_report.report_download, name="stats-report-download"),
    path("ledgers/<str:name>.xlsx", views_report.ledger_download, name="stats-ledger"),
]
