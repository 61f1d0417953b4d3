"""The page form for a new avatar (/settings/): it parses; media_upload decides what is an image."""

from django import forms


class AvatarForm(forms.Form):
    photo = forms.FileField(
        label="New profile photo",
        widget=forms.FileInput(attrs={"accept": "image/*"}),
        error_messages={"required": "Pick a photo to upload."},
    )
