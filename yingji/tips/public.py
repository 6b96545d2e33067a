"""The public tip portal (举报平台): report without an account, follow it with the receipt code.

Protections, all per client address (``throttle.client_ip``) and counted in Django's cache:

- reports: at most ``SUBMIT_LIMIT`` created per ``SUBMIT_WINDOW`` and ``ATTEMPT_LIMIT`` posts
  of the form, plus an arithmetic question signed with ``django.core.signing`` (see
  ``forms_public``) and a hidden honeypot field;
- code lookups: at most ``LOOKUP_LIMIT`` per ``LOOKUP_WINDOW``; past it even the right code
  gets the same refusal as a wrong one. Every lookup hashes and queries, then waits until
  ``LOOKUP_MIN_SECONDS`` have passed, so a wrong code and a refusal look and take the same;
- the enterprise search: ``SEARCH_LIMIT`` per ``SEARCH_WINDOW``, names only, ten at most.

The code never appears in a URL or a log: it is posted, and after a correct lookup the
session holds the signed tip id (``SESSION_KEY``) for the follow-up posts.
"""

import math
import time

from django.contrib import messages
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yingji.core.throttle import client_ip
from yingji.enterprises.models import Enterprise
from yingji.tips import crypto, services
from yingji.tips.forms_public import CodeForm, PublicAnswerForm, PublicTipForm
from yingji.tips.models import Tip, TipMessage

SUBMIT_LIMIT, SUBMIT_WINDOW = 5, 60 * 60  # reports created per address per hour
ATTEMPT_LIMIT, ATTEMPT_WINDOW = 30, 60 * 60  # posts of the report form, valid or not
LOOKUP_LIMIT, LOOKUP_WINDOW = 10, 10 * 60  # code lookups per address per ten minutes
SEARCH_LIMIT, SEARCH_WINDOW = 60, 60  # enterprise searches per address per minute
LOOKUP_MIN_SECONDS = 0.5  # every lookup answers after this long, found or not
SESSION_KEY = "tips_portal"
SESSION_SALT = "yingji.tips.portal.session"
SESSION_MAX_AGE = 30 * 60  # the report stays open this long after the last page

PUBLIC_STATUS = {
    Tip.Status.RECEIVED: gettext_lazy("Received; it is waiting to be handled."),
    Tip.Status.ASSIGNED: gettext_lazy("Passed to a handler."),
    Tip.Status.VERIFYING: gettext_lazy("The facts are being checked."),
    Tip.Status.VERIFIED: gettext_lazy("Checked: what you reported was found to be true."),
    Tip.Status.UNFOUNDED: gettext_lazy("Checked: what you reported could not be confirmed."),
    Tip.Status.TRANSFERRED: gettext_lazy(
        "Outside the bureau's remit: passed to the competent authority."
    ),
    Tip.Status.CLOSED: gettext_lazy("Handled; the bureau's answer is below."),
}


# -- limits ------------------------------------------------------------------------------------
def _count(scope: str, request: HttpRequest, limit: int, window: int, *, add: bool) -> bool:
    """Count one event (if ``add``) in the current window; True while within the limit.

    Fixed windows keyed by their number, so no backend's ``incr`` timeout rule matters
    (the file cache's ``incr`` resets the timeout to the default).
    """
    slot = math.floor(time.time() / window)
    key = f"tips:{scope}:{client_ip(request)}:{slot}"
    if not add:
        return cache.get(key, 0) < limit
    if cache.add(key, 1, window + 5):
        return limit >= 1
    try:
        n = cache.incr(key)
    except ValueError:  # expired in between
        cache.set(key, n := 1, window + 5)
    cache.touch(key, window + 5)
    return n <= limit


# -- the report --------------------------------------------------------------------------------
@never_cache
@sensitive_post_parameters("name", "contact")
@require_http_methods(["GET", "POST"])
def tip_new(request: HttpRequest) -> HttpResponse:
    """Report a danger; the receipt code is shown once, in the answer to the post."""
    if request.method != "POST":
        return render(request, "tips/public_new.html", {"form": PublicTipForm()})
    form = PublicTipForm(request.POST, request.FILES)
    status = 200
    if not _count("post", request, ATTEMPT_LIMIT, ATTEMPT_WINDOW, add=True) or not _count(
        "submit", request, SUBMIT_LIMIT, SUBMIT_WINDOW, add=False
    ):
        form.is_valid()  # for the field values only; nothing is written
        form.add_error(None, _("Too many reports from your connection. Try again in an hour."))
        status = 429
    elif form.is_valid():
        try:
            tip, code = _submit(form.cleaned_data)
        except ValidationError as e:
            _add_errors(form, e, files_field="photos")
        else:
            _count("submit", request, SUBMIT_LIMIT, SUBMIT_WINDOW, add=True)
            grouped = " ".join(code[i : i + 4] for i in range(0, len(code), 4))
            return render(request, "tips/public_receipt.html", {"code": grouped, "tip": tip})
    if request.FILES and "photos" not in form.errors:
        # Browsers cannot send a file input back filled in.
        form.add_error("photos", _("Choose your photos again: the form does not keep them."))
    form.renew_challenge()
    return render(request, "tips/public_new.html", {"form": form}, status=status)


def _submit(data: dict) -> tuple[Tip, str]:
    typed = data["enterprise"].strip()
    # The typed name counts as an enterprise only when it is exactly one active one's name.
    matches = list(
        Enterprise.objects.filter(status=Enterprise.Status.ACTIVE, name=typed)[:2] if typed else []
    )
    enterprise = matches[0] if len(matches) == 1 else None
    return services.submit_public_tip(
        content=data["content"],
        location=data["location"],
        enterprise=enterprise,
        enterprise_name="" if enterprise else typed,
        anonymous=data["anonymous"],
        name=data["name"],
        contact=data["contact"],
        photos=data["photos"],
    )


UPLOAD_ERRORS = {"type", "empty", "size", "image"}  # the codes of core.attachments' refusals


def _add_errors(form, error: ValidationError, *, files_field: str) -> None:
    """Put a service's refusal on the form: its fields where it names them, uploads on the
    files, the rest above the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        upload = getattr(error, "code", None) in UPLOAD_ERRORS
        form.add_error(files_field if upload else None, error.messages)


@require_GET
def enterprise_search(request: HttpRequest) -> HttpResponse:
    """Names of active enterprises containing ``q`` (ten at most) for the report form."""
    # htmx sends the input under its own name; a plain request uses q.
    q = (request.GET.get("q") or request.GET.get("enterprise") or "").strip()[:50]
    if not _count("search", request, SEARCH_LIMIT, SEARCH_WINDOW, add=True):
        return HttpResponse(status=429)
    names = []
    if len(q) >= 2:
        names = list(
            Enterprise.objects.filter(status=Enterprise.Status.ACTIVE, name__icontains=q)
            .order_by("name")
            .values_list("name", flat=True)
            .distinct()[:10]
        )
    response = render(request, "tips/public_enterprise_options.html", {"names": names})
    response["Cache-Control"] = "private, max-age=60"
    return response


# -- following the report ----------------------------------------------------------------------
def _session_tip(request: HttpRequest) -> Tip | None:
    value = request.session.get(SESSION_KEY)
    if not value:
        return None
    try:
        pk = signing.loads(value, salt=SESSION_SALT, max_age=SESSION_MAX_AGE)
    except signing.BadSignature:
        request.session.pop(SESSION_KEY, None)
        return None
    tip = Tip.objects.filter(pk=pk, receipt_hash__isnull=False).first()
    if tip is not None:
        request.session[SESSION_KEY] = signing.dumps(pk, salt=SESSION_SALT)  # slide the expiry
    return tip


@sensitive_variables("code", "digits")
def _lookup(request: HttpRequest, code: str) -> Tip | None:
    """The tip for a code, or None: the same work and the same time for any code.

    A client past its limit is refused at once with the same page: it learns nothing it did
    not know, and the padding (a sleeping worker) is only spent on lookups within the limit,
    so one client cannot hold the server's workers.
    """
    if not _count("lookup", request, LOOKUP_LIMIT, LOOKUP_WINDOW, add=True):
        return None
    started = time.monotonic()
    digits = "".join(c for c in code if c.isdigit())
    tip = Tip.objects.filter(receipt_hash=crypto.code_hash(digits)).first()
    if len(digits) < 16:  # services.find_by_code's rule, without its shortcut
        tip = None
    time.sleep(max(0.0, LOOKUP_MIN_SECONDS - (time.monotonic() - started)))
    return tip


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def tip_status(request: HttpRequest) -> HttpResponse:
    """Ask for the code (posted, never in the URL); once given, show what the public may see."""
    if request.method == "POST":
        form = CodeForm(request.POST)
        code = form.cleaned_data["code"] if form.is_valid() else ""
        tip = _lookup(request, code)
        if tip is None:
            # One answer for a wrong code, a malformed one and too many tries.
            context = {"form": CodeForm(), "refused": True}
            return render(request, "tips/public_lookup.html", context)
        request.session.cycle_key()
        request.session[SESSION_KEY] = signing.dumps(tip.pk, salt=SESSION_SALT)
        return redirect("public-tip-status")
    tip = _session_tip(request)
    if tip is None:
        return render(request, "tips/public_lookup.html", {"form": CodeForm()})
    return _status_page(request, tip, PublicAnswerForm())


def _status_page(request, tip: Tip, answer_form, status: int = 200) -> HttpResponse:
    conversation = list(tip.messages.only("kind", "text", "at"))
    closed = tip.status == Tip.Status.CLOSED
    asked = any(m.kind == TipMessage.Kind.QUESTION for m in conversation)
    context = {
        "tip": tip,
        "status_text": PUBLIC_STATUS[tip.status],
        "conversation": conversation,
        "answer_form": answer_form if asked and not closed else None,
        "closed": closed,
        "can_claim": tip.reward_status == Tip.Reward.APPROVED and not tip.reward_claimed_at,
        "can_waive": tip.verified
        and tip.reward_status not in (Tip.Reward.PAID, Tip.Reward.WAIVED)
        and tip.reward_claimed_at is None,
    }
    return render(request, "tips/public_status.html", context, status=status)


def _require_session_tip(view):
    def wrapped(request: HttpRequest) -> HttpResponse:
        tip = _session_tip(request)
        if tip is None:
            messages.error(request, _("Enter your receipt code first."))
            return redirect("public-tip-status")
        return view(request, tip)

    wrapped.__name__, wrapped.__doc__ = view.__name__, view.__doc__
    return wrapped


@never_cache
@require_POST
@_require_session_tip
def tip_answer(request: HttpRequest, tip: Tip) -> HttpResponse:
    """The reporter answers the bureau's questions (text and files)."""
    form = PublicAnswerForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.reporter_answers(
                tip, text=form.cleaned_data["text"], files=form.cleaned_data["files"]
            )
        except ValidationError as e:
            if getattr(e, "code", None) not in UPLOAD_ERRORS:
                # The tip was closed meanwhile: the form is no longer shown, so say it above.
                messages.error(request, " ".join(e.messages))
                return redirect("public-tip-status")
            _add_errors(form, e, files_field="files")
        else:
            messages.success(request, _("Your answer was sent to the bureau."))
            return redirect("public-tip-status")
    return _status_page(request, tip, form)


@never_cache
@require_POST
@_require_session_tip
def tip_claim(request: HttpRequest, tip: Tip) -> HttpResponse:
    """The reporter asks for the approved reward."""
    return _reward_act(request, tip, services.reporter_claims_reward, _("Your claim was sent."))


@never_cache
@require_POST
@_require_session_tip
def tip_waive(request: HttpRequest, tip: Tip) -> HttpResponse:
    """The reporter declines the reward (after ticking the confirmation)."""
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm that you decline the reward."))
        return redirect("public-tip-status")
    return _reward_act(request, tip, services.reporter_waives_reward, _("You declined the reward."))


def _reward_act(request, tip: Tip, act, done: str) -> HttpResponse:
    try:
        act(tip)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    else:
        messages.success(request, done)
    return redirect("public-tip-status")


@require_POST
def tip_leave(request: HttpRequest) -> HttpResponse:
    """Close the report on this device (a shared phone or computer)."""
    request.session.flush()
    messages.info(request, _("You left the report. Enter the code to open it again."))
    return redirect("public-tip-status")
