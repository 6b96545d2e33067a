from django.urls import path

from yingji.hazards import views

urlpatterns = [
    path("", views.hazard_list, name="hazards-list"),
    path("ledger.xlsx", views.hazard_ledger, name="hazards-ledger"),
    path("overdue/", views.overdue_board, name="hazards-overdue"),
    path("report/", views.self_report, name="hazards-self-report"),
    path("<int:pk>/", views.hazard_detail, name="hazards-detail"),
    path("findings/<int:inspection_pk>/", views.finding_create, name="hazards-finding"),
    path("orders/<int:inspection_pk>/", views.order_create, name="hazards-order"),
    path("orders/<int:pk>/document.docx", views.order_docx, name="hazards-order-docx"),
    path(
        "reinspections/<int:pk>/document.docx",
        views.reinspection_docx,
        name="hazards-reinspection-docx",
    ),
]
