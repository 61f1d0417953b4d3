"""common.idlists: a list of ids passed to a prepared query (one array parameter on PostgreSQL,
one parameter per id elsewhere) finds exactly the rows with those ids, through a column or a
foreign key, whatever the list's length."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.idlists import id_args, ids_in
from common.prepared import Prepared
from microblog import services
from microblog.models import Like, Post

pytestmark = pytest.mark.django_db


@Prepared
def posts_among(*post_ids: int):
    return Post.objects.filter(ids_in("id", post_ids)).order_by("id").values_list("id", flat=True)


@Prepared
def likers_among(*post_ids: int):
    return Like.objects.filter(ids_in("post_id", post_ids)).order_by("user_id").values_list("user_id", flat=True)


def test_the_rows_with_the_listed_ids_and_no_others(alice, bob):
    posts = [services.post_create(author=alice, body=f"post {n}").pk for n in range(3)]
    services.post_like(user=bob, post=posts[1])
    assert posts_among(*id_args([])) == []
    assert posts_among(*id_args([posts[2], posts[0]])) == [posts[0], posts[2]]
    # Ids that match nothing (a deleted row's, a padding 0) change nothing.
    assert posts_among(*id_args([*posts, 0, max(posts) + 1000])) == posts
    # Through a foreign key's column.
    assert likers_among(*id_args(posts)) == [bob.pk]
    assert likers_among(*id_args([posts[0]])) == []


def test_a_long_list_is_one_parameter_on_postgresql(alice):
    posts = [services.post_create(author=alice, body=f"post {n}").pk for n in range(3)]
    many = [*posts, *range(10**6, 10**6 + 1500)]
    with CaptureQueriesContext(connection) as queries:
        assert posts_among(*id_args(many)) == posts
    (sql,) = [query["sql"] for query in queries.captured_queries]
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and sql.count(str(10**6 + 1499)) == 1
    else:
        assert sql.count(",") >= len(many) - 1
