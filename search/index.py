"""What goes into the index for a post, a message and a person, written in the caller's transaction.

Additions come from here (search.receivers calls it as posts, people and messages are stored);
removals are the database's own triggers (search.backends.*.SCHEMA), so a post deleted, a
message recalled or a row gone leaves the index in the same statement, whatever code did it.

Articles are the fourth kind: a published one's title and Markdown text into `doc`, its author
(and the audience token when public) into `meta`; indexed again on each save (their text can be
edited), never while a draft; search.selectors filters them by their own visibility rule.
"""

from collections.abc import Iterable

from accounts.models import User
from articles.models import Article
from chat.models import Message
from microblog.models import Post

from .backends import backend
from .backends.base import ARTICLES, MESSAGES, PEOPLE, POSTS, Entry
from .query import PUBLIC_TOKEN, author_token, conversation_token, tag_token
from .text import document


def post_entry(post: Post) -> Entry:
    meta = [author_token(post.author_id), *(tag_token(tag) for tag in post.hashtags or [])]
    if post.fully_public:
        meta.append(PUBLIC_TOKEN)
    return Entry(post.pk, document(post.body), tuple(meta))


def message_entry(message: Message) -> Entry:
    meta = (conversation_token(message.conversation_id), author_token(message.sender_id))
    return Entry(message.pk, document(message.body), meta)


def person_entry(user: User) -> Entry:
    return Entry(user.pk, document(user.username, user.display_name))


def article_entry(article: Article) -> Entry:
    meta = [author_token(article.author_id)]
    if article.visibility == "public":
        meta.append(PUBLIC_TOKEN)
    return Entry(article.pk, document(article.title, article.body), tuple(meta))


def posts_index(posts: Iterable[Post], *, new: bool = False) -> None:
    backend().index(POSTS, [post_entry(post) for post in posts if post.deleted_at is None], new=new)


def messages_index(messages: Iterable[Message], *, new: bool = False) -> None:
    backend().index(MESSAGES, [message_entry(m) for m in messages if m.recalled_at is None and m.body], new=new)


def people_index(users: Iterable[User]) -> None:
    backend().index(PEOPLE, [person_entry(user) for user in users])


def articles_index(articles: Iterable[Article]) -> None:
    backend().index(ARTICLES, [article_entry(article) for article in articles if article.is_published])
