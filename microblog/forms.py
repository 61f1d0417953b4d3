"""Forms for the browser pages: they parse, and the views call the same services as the API (which check the rules)."""

from django import forms

from .models import Visibility
from .text import MAX_BODY_CHARS


def _text_field(label: str, *, rows: int, counter: str, required: bool) -> forms.CharField:
    # The browser's hints (required, maxlength) stay; the rule itself is the service's.
    attrs = {"rows": rows, "data-counter": counter, "maxlength": MAX_BODY_CHARS}
    if required:
        attrs["required"] = True
    return forms.CharField(label=label, required=False, strip=False, widget=forms.Textarea(attrs=attrs))


class MediaIdsField(forms.Field):
    """Upload ids, one `media` input each (the page uploads the photos first, then names them here),
    in the order shown. Parsed only: how many, and whose, is the service's rule."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        if not all(isinstance(item, str) and item.isascii() and item.isdigit() and len(item) < 19 for item in values):
            raise forms.ValidationError("Photos are named by their upload ids.", code="invalid")
        return [int(item) for item in values]


class PostForm(forms.Form):
    body = _text_field("What's happening?", rows=3, counter="compose-count", required=True)
    visibility = forms.ChoiceField(label="Who can see it", choices=Visibility.choices, initial=Visibility.PUBLIC)
    media = MediaIdsField(required=False)
    # An article of the author's to carry as a card (the share form of /a/{id}/ names it).
    article = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)


class ReplyForm(forms.Form):
    body = _text_field("Reply", rows=2, counter="reply-count", required=True)
    visibility = forms.ChoiceField(label="Who can see it", choices=Visibility.choices, initial=Visibility.PUBLIC)
    media = MediaIdsField(required=False)


class RepostForm(forms.Form):
    comment = _text_field("Repost with a comment (optional)", rows=2, counter="repost-count", required=False)
