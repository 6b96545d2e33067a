from django.urls import path

from yingji.tips import views

urlpatterns = [
    path("", views.tip_list, name="tips-list"),
    path("ledger.xlsx", views.tip_ledger, name="tips-ledger"),
    path("new/", views.tip_new, name="tips-new"),
    path("<int:pk>/", views.tip_detail, name="tips-detail"),
]
