"""Forms of the public tip portal: the report (with its challenge), the code, the answer."""

import secrets
import time

from django import forms
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

from yingji.core import attachments
from yingji.core.fields import MultipleFileField
from yingji.enterprises.validators import validate_phone

# The arithmetic challenge: valid for half an hour (a report typed on a phone takes a while),
# not sooner than a few seconds after the form was shown (scripts post at once), and once.
CHALLENGE_MAX_AGE = 30 * 60
CHALLENGE_MIN_SECONDS = 3
CHALLENGE_SALT = "yingji.tips.portal.challenge"
MAX_FILES = 5  # per report or answer; each file is also held to UPLOAD_MAX_BYTES


def _digest(nonce: str, answer: int) -> str:
    return salted_hmac(CHALLENGE_SALT, f"{nonce}:{answer}", algorithm="sha256").hexdigest()


def new_challenge() -> tuple[str, str]:
    """Return a question and a signed token; the token holds only a keyed hash of the answer."""
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    nonce = secrets.token_urlsafe(12)
    token = signing.dumps(
        {"n": nonce, "t": int(time.time()), "d": _digest(nonce, a + b)}, salt=CHALLENGE_SALT
    )
    return _("What is %(a)d plus %(b)d?") % {"a": a, "b": b}, token


def _text(max_length: int, **kwargs) -> forms.CharField:
    return forms.CharField(max_length=max_length, required=False, **kwargs)


def _files(files: list) -> list:
    if len(files) > MAX_FILES:
        raise ValidationError(
            _("Attach at most %(n)d files.") % {"n": MAX_FILES}, code="too_many_files"
        )
    cleaned = []
    for f in files:
        mime = attachments.validate_upload(f)  # type read from the content
        # Re-encode photos now (attach() does it again): an unreadable one is refused here,
        # before the service has stored any of the others.
        cleaned.append(attachments.strip_metadata(f, mime) if mime.startswith("image/") else f)
    return cleaned


class PublicTipForm(forms.Form):
    content = forms.CharField(
        label=_("What happened"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6, "style": "width:100%"}),
        help_text=_("What you saw, when, and why it is dangerous."),
        error_messages={"required": _("Describe what you saw.")},
    )
    location = _text(300, label=_("Where"), help_text=_("Address, building, workshop."))
    enterprise = _text(
        200,
        label=_("Which enterprise (if known)"),
        widget=forms.TextInput(attrs={"list": "enterprise-options", "autocomplete": "off"}),
    )
    photos = MultipleFileField(
        label=_("Photos or PDF files"),
        help_text=_("Location data (EXIF) is removed from photos when they are saved."),
    )
    anonymous = forms.BooleanField(label=_("Stay anonymous"), required=False, initial=True)
    name = _text(64, label=_("Your name"))
    contact = _text(
        100,
        label=_("Phone or email"),
        help_text=_("Only the bureau's authorised staff can read it; it is stored encrypted."),
    )
    answer = forms.IntegerField(
        label=_("Check question"),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={
            "required": _("Answer the check question."),
            "invalid": _("Answer with a number."),
        },
    )
    challenge = forms.CharField(widget=forms.HiddenInput, required=False)
    # A field people never see: scripts that fill every input fill this one too.
    website = _text(
        200,
        label=_("Leave this field empty"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.question = None
        if not self.is_bound:
            self.renew_challenge()

    def renew_challenge(self) -> None:
        """Ask a fresh question (on first display and whenever the form comes back)."""
        self.question, token = new_challenge()
        if self.is_bound:
            self.data = self.data.copy()
            self.data["challenge"], self.data["answer"] = token, ""
        else:
            self.initial["challenge"] = token

    def clean_photos(self) -> list:
        return _files(self.cleaned_data["photos"])

    def clean_content(self) -> str:
        content = self.cleaned_data["content"].strip()
        if len(content) < 10:
            raise ValidationError(_("Describe what you saw in at least ten characters."))
        return content

    def clean_website(self) -> str:
        if self.cleaned_data["website"]:
            raise ValidationError(_("Leave this field empty."), code="honeypot")
        return ""

    def clean(self) -> dict:
        data = super().clean()
        if data.get("anonymous"):
            data["name"] = data["contact"] = ""  # nothing to encrypt, nothing kept
        elif "contact" in data:
            self._check_contact(data["contact"].strip())
        if data.get("answer") is not None:
            self._check_challenge(data["answer"])
        return data

    def _check_contact(self, contact: str) -> None:
        if not contact:
            self.add_error(
                "contact", _("Leave a phone number or email, or choose to stay anonymous.")
            )
            return
        try:
            validate_email(contact) if "@" in contact else validate_phone(contact)
        except ValidationError as e:
            self.add_error("contact", e)

    def _check_challenge(self, answer: int) -> None:
        try:
            token = signing.loads(
                self.data.get("challenge", ""), salt=CHALLENGE_SALT, max_age=CHALLENGE_MAX_AGE
            )
        except signing.SignatureExpired:
            self.add_error("answer", _("The check question expired; answer the new one."))
            return
        except signing.BadSignature:
            self.add_error("answer", _("Answer the check question below."))
            return
        if time.time() - token["t"] < CHALLENGE_MIN_SECONDS or not constant_time_compare(
            token["d"], _digest(token["n"], answer)
        ):
            self.add_error("answer", _("The answer is wrong; try the new question."))
            return
        # One question, one report: a solved token cannot be replayed for a second one.
        if not cache.add(f"tips:challenge:{token['n']}", 1, CHALLENGE_MAX_AGE + 60):
            self.add_error("answer", _("This form was already sent; answer the new question."))


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Receipt code"),
        max_length=64,
        required=False,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
        ),
    )


class PublicAnswerForm(forms.Form):
    text = forms.CharField(
        label=_("Your answer"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "style": "width:100%"}),
    )
    files = MultipleFileField(label=_("Photos or PDF files"))

    def clean_files(self) -> list:
        return _files(self.cleaned_data["files"])

    def clean(self) -> dict:
        data = super().clean()
        if not (data.get("text") or "").strip() and not data.get("files") and not self.errors:
            self.add_error("text", _("Write your answer or add a file."))
        return data
