"""The editor's form (/write/): it parses; the views call the same services as the API."""

from django import forms

from microblog.models import Visibility

from .models import MAX_BODY_CHARS, MAX_TITLE_CHARS


class ArticleForm(forms.Form):
    title = forms.CharField(label="Title", max_length=MAX_TITLE_CHARS, strip=False)
    body = forms.CharField(
        label="Text (Markdown)",
        required=False,
        strip=False,
        max_length=MAX_BODY_CHARS,
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "true"}),
    )
    visibility = forms.ChoiceField(label="Who can read it", choices=Visibility.choices, initial=Visibility.PUBLIC)
    cover = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    share = forms.BooleanField(label="Also post it to my feed", required=False, initial=True)
