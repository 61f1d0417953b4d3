"""common.prepared: a query built once runs the very statement the ORM builds for each call's
values, and preparing refuses a builder whose arguments would not reach the query as parameters."""

from datetime import timedelta
from functools import partial

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from chat import services as chat
from common.prepared import Prepared
from microblog import services as microblog
from microblog.models import Post, Visibility

pytestmark = pytest.mark.django_db


def executed(run) -> tuple[list, list[str]]:
    """What `run` returns and the statements it ran, their values written in."""
    with CaptureQueriesContext(connection) as queries:
        result = run()
    return result, [query["sql"] for query in queries.captured_queries]


@Prepared
def visible_post(viewer_id: int, post_id: int):
    return Post.objects.visible_to(User(pk=viewer_id)).filter(pk=post_id).values_list("pk", flat=True)


def orm_visible_post(viewer, post_id: int) -> list:
    return list(Post.objects.visible_to(viewer).filter(pk=post_id).values_list("pk", flat=True))


def test_a_prepared_query_runs_what_the_orm_builds_for_the_same_values(make_user, befriend):
    author, follower, contact, stranger, blocked = (make_user() for _ in range(5))
    microblog.user_follow(follower=follower, followee=author)
    befriend(author, contact)
    chat.block_create(user=author, username=blocked.username)
    posts = [microblog.post_create(author=author, body=seen_by, visibility=seen_by) for seen_by in Visibility]
    posts.append(microblog.post_create(author=follower, body="a reply", reply_to=posts[1]))
    seen = 0
    for viewer in (author, follower, contact, stranger, blocked):
        for post in posts:
            prepared = executed(partial(visible_post, viewer.pk, post.pk))
            by_the_orm = executed(partial(orm_visible_post, viewer, post.pk))
            assert prepared == by_the_orm, (viewer.username, post.body)
            seen += bool(prepared[0])
    # Not a matrix of empty answers: the author sees all four, the blocked person none.
    assert 0 < seen < 5 * len(posts)


def test_rows_come_back_converted_as_the_orm_converts_them(make_user):
    user = make_user()

    @Prepared
    def joined(username: str):
        return User.objects.filter(username=username).values_list("pk", "date_joined", "is_active")

    by_the_orm = list(User.objects.filter(username=user.username).values_list("pk", "date_joined", "is_active"))
    assert joined(user.username) == by_the_orm == [(user.pk, user.date_joined, True)]
    assert joined("nobody-by-this-name") == []


@pytest.mark.parametrize(
    ("build", "argument", "refusal"),
    [
        # LIMIT is written into the SQL text: another value would need another statement.
        (lambda count: User.objects.values_list("pk")[:count], 3, "written into the SQL"),
        # `contains` sends %value%: the stand-in arrives changed.
        (lambda name: User.objects.filter(username__contains=name).values_list("pk"), "al", "changed"),
        # Used in Python first: what reaches the query is not the argument.
        (lambda name: User.objects.filter(username=name.upper()).values_list("pk"), "al", "not a parameter"),
        # The builder's own query would be frozen into the answer.
        (lambda pk: User.objects.filter(pk__in=list(User.objects.values_list("pk", flat=True))), 1, "ran a query"),
        (lambda pk: User.objects.filter(pk=pk), 1, "values_list"),
    ],
)
def test_preparing_refuses_a_builder_whose_values_are_not_plain_parameters(build, argument, refusal):
    with pytest.raises(ValueError, match=refusal):
        Prepared(build)(argument)


def test_only_int_and_str_arguments_are_taken():
    with pytest.raises(TypeError):
        Prepared(lambda when: User.objects.filter(date_joined__gt=when).values_list("pk"))(1.5)


@Prepared
def posts_since(since, *ids: int):
    return Post.objects.filter(created_at__gte=since, pk__in=ids).order_by("pk").values_list("pk", "created_at")


def test_datetimes_and_id_lists_reach_the_query_as_the_orm_puts_them(make_user):
    """A datetime goes in the form the database takes it (a string on SQLite), and ids of a bigint
    column keep their parameter type (psycopg's Int8 on PostgreSQL); one argument per id."""
    author = make_user()
    posts = [microblog.post_create(author=author, body=f"post {n}") for n in range(4)]
    Post.objects.filter(pk=posts[0].pk).update(created_at=posts[0].created_at - timedelta(days=2))
    since = timezone.now() - timedelta(days=1)
    for ids in ([p.pk for p in posts], [posts[0].pk, posts[2].pk], [posts[0].pk]):
        # Padded with ids no post has (distinct: the ORM writes a repeated value once).
        padded = [*ids, *(-1, -2, -3)[: 4 - len(ids)]]
        prepared = executed(partial(posts_since, since, *padded))
        by_the_orm = executed(
            lambda padded=padded: list(
                Post.objects.filter(created_at__gte=since, pk__in=padded).order_by("pk").values_list("pk", "created_at")
            )
        )
        assert prepared == by_the_orm
    assert [pk for pk, _ in posts_since(since, *(p.pk for p in posts))] == [p.pk for p in posts[1:]]
