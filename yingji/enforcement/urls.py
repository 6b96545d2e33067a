from django.urls import path

from yingji.enforcement import views

urlpatterns = [
    path("", views.case_list, name="enforcement-list"),
    path("ledger.xlsx", views.acts_ledger, name="enforcement-ledger"),
    path("new/", views.case_new, name="enforcement-new"),
    path("<int:pk>/", views.case_detail, name="enforcement-case"),
    path(
        "penalties/<int:pk>/notice.docx",
        views.penalty_notice_docx,
        name="enforcement-penalty-notice",
    ),
    path(
        "penalties/<int:pk>/decision.docx",
        views.penalty_decision_docx,
        name="enforcement-penalty-decision",
    ),
    path("letters/<int:pk>.docx", views.letter_docx, name="enforcement-letter"),
    path("referrals/<int:pk>.docx", views.referral_docx, name="enforcement-referral"),
    path(
        "referrals/<int:pk>/package.zip",
        views.referral_package,
        name="enforcement-referral-package",
    ),
]
