"""Forms for the browser pages; they validate, and the views call the same services as the API."""

from django import forms

from .models import Visibility
from .serializers import MAX_BODY_CHARS
from .text import has_surrogates


def _valid_text(value: str) -> str:
    if has_surrogates(value):
        raise forms.ValidationError("Text must be valid Unicode.")
    return value


class PostForm(forms.Form):
    body = forms.CharField(
        label="What's happening?",
        max_length=MAX_BODY_CHARS,
        widget=forms.Textarea(attrs={"rows": 3, "data-counter": "compose-count"}),
        validators=[_valid_text],
    )
    visibility = forms.ChoiceField(label="Who can see it", choices=Visibility.choices, initial=Visibility.PUBLIC)


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Reply",
        max_length=MAX_BODY_CHARS,
        widget=forms.Textarea(attrs={"rows": 2, "data-counter": "reply-count"}),
        validators=[_valid_text],
    )
    visibility = forms.ChoiceField(label="Who can see it", choices=Visibility.choices, initial=Visibility.PUBLIC)


class RepostForm(forms.Form):
    comment = forms.CharField(
        label="Repost with a comment (optional)",
        max_length=MAX_BODY_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "data-counter": "repost-count"}),
        validators=[_valid_text],
    )
