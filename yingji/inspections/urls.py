from django.urls import path

from yingji.inspections import views

urlpatterns = [
    path("", views.inspection_list, name="inspections-list"),
    path("ledger.xlsx", views.inspection_ledger, name="inspections-ledger"),
    path("new/", views.inspection_new, name="inspections-new"),
    path("self/", views.self_inspection_new, name="inspections-self"),
    path("<int:pk>/", views.inspection_detail, name="inspections-detail"),
    path("<int:pk>/record.docx", views.inspection_record_docx, name="inspections-record"),
    path("plans/", views.plan_list, name="inspections-plans"),
    path("plans/<int:pk>/", views.plan_detail, name="inspections-plan"),
    path("campaigns/new/", views.campaign_new, name="inspections-campaign-new"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="inspections-campaign"),
    path("checklists/", views.checklist_list, name="inspections-checklists"),
    path("draws/", views.draw_list, name="inspections-draws"),
    path("draws/<int:pk>/", views.draw_detail, name="inspections-draw"),
]

public_urlpatterns = [
    path("draws/", views.public_draw_list, name="public-draws"),
    path("draws/<int:pk>.json", views.public_draw_json, name="public-draw-json"),
]
