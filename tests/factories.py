"""factory_boy factories for the test suite."""

import factory

from accounts.models import User

PASSWORD = "correct-Horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.LazyAttribute(lambda user: user.username.title())

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        kwargs.setdefault("password", PASSWORD)
        return model_class.objects.create_user(*args, **kwargs)
