"""The send pipeline, and recall.

`message_send_many` is the one path for sending (REST sends a batch of one, the socket's
writer whatever is waiting). Who hears a message follows chat.visibility: every member who
sees it, so in a group nobody hidden from the sender by a block; each reader gets the shared
card and the reply preview they may see.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import User
from accounts.selectors import blocked_pairs_among
from articles.selectors import articles_by_id
from common.errors import NotFound, ServiceError
from common.pipelined import as_arrays, asked, columns, commit_queued, one_of, pipelined
from common.prepared import Prepared
from media.attach import media_attach_many, media_claim_many, media_detach
from media.models import Media
from microblog.selectors import post_visible
from realtime.services import Publication, events_publish, events_publish_many

from ..cards import article_reader_cards, reader_cards
from ..limits import MAX_BODY, MAX_CLIENT_ID, RECALL_WINDOW
from ..models import ChannelAutoReply, Conversation, Membership, Message
from ..selectors import is_id, message_for_member
from ..serializers import message_data
from ..signals import messages_stored
from ..visibility import readers_of, sees_message
from .checks import ChatError, check_text
from .reach import contacts_and_blocks_among, members_contacts_and_blocks_asked, refused_among


@dataclass
class OutgoingMessage:
    """One send as a client asked for it; nothing here is trusted yet."""

    sender: User
    conversation_id: object
    body: object
    client_id: object = None
    reply_to: object = None
    shared_post: object = None
    shared_article: object = None
    # Upload ids, shown in this order (media.attach's rules).
    media: object = None
    # Called before the send is stored, once what it needs is read: raises the ServiceError that
    # refuses it (the socket's message budget, counted meanwhile: chat.consumers).
    admit: Callable[[], None] | None = None


@dataclass
class SendResult:
    message: Message | None = None
    created: bool = False
    error: ServiceError | None = None
    # The message as clients see it (message_data), made once for the push and the answer.
    rendered: dict | None = None


@dataclass
class _Checked:
    index: int
    send: OutgoingMessage
    body: str
    client_id: str
    conversation: Conversation | None = None
    reply_to_id: int | None = None
    media: list = field(default_factory=list)


def _check_fields(send: OutgoingMessage) -> _Checked:
    if send.shared_post is not None and not is_id(send.shared_post):
        raise ChatError("invalid", "shared_post must be a post id.")
    if send.shared_article is not None and not is_id(send.shared_article):
        raise ChatError("invalid", "shared_article must be an article id.")
    media = [] if send.media is None else send.media
    if not isinstance(media, list):
        raise ChatError("invalid", "media must be a list of upload ids.")
    # Sharing a post or sending photos may come without words, as in WeChat.
    wordless = send.shared_post is not None or send.shared_article is not None or bool(media)
    body = check_text(
        "" if send.body is None and wordless else send.body,
        field="body",
        max_length=MAX_BODY,
        allow_empty=wordless,
    )
    client_id = "" if send.client_id is None else send.client_id
    if not isinstance(client_id, str) or len(client_id) > MAX_CLIENT_ID:
        raise ChatError("invalid", f"client_id must be a string of at most {MAX_CLIENT_ID} characters.")
    if send.reply_to is not None and not is_id(send.reply_to):
        raise ChatError("invalid", "reply_to must be a message id.")
    if not is_id(send.conversation_id):
        raise NotFound()
    return _Checked(index=-1, send=send, body=body, client_id=client_id, reply_to_id=send.reply_to, media=media)


@dataclass
class _Facts:
    """What a batch's checks and pushes read before its transaction, in one round trip (on PostgreSQL)."""

    # The senders' memberships, keyed (user, conversation), each with its conversation and user.
    memberships: dict[tuple[int, int], Membership]
    # Every member of the batch's conversations: conversation -> user -> visible_after_message_id.
    members: dict[int, dict[int, int]]
    # The senders' contacts among the members of direct conversations, as (user, contact).
    contacts: set[tuple[int, int]]
    # Blocked pairs among the members of the batch's conversations, either way.
    blocked: set[frozenset[int]]
    # The messages replied to, each with what the rule of who sees it needs.
    targets: dict[int, Message]
    # PostgreSQL: ids taken from the messages' sequence for this batch, one a send, lowest first
    # (`_store_claimed` gives them to the messages stored, in order); unused ones are left as gaps.
    message_ids: list[int]


def _batch_facts(checked: list[_Checked]) -> _Facts:
    """Reads `_Facts`. On PostgreSQL the statements go out together and are answered together: a
    send's reads before its transaction were three round trips each waited for in turn (the
    memberships, the contacts and blocks, then the members inside the transaction)."""
    sender_ids = sorted({item.send.sender.pk for item in checked})
    conversation_ids = sorted({item.send.conversation_id for item in checked})
    together = connection.vendor == "postgresql"
    with pipelined():
        memberships = _memberships_asked(sender_ids, conversation_ids)
        members = _members_asked(conversation_ids)
        if together:
            contacts_and_blocks = members_contacts_and_blocks_asked(sender_ids, conversation_ids)
            # With the reads, so that the transaction's statements need no answer of one another:
            # the INSERT with these ids, the events that refer to them, and the COMMIT go in one trip.
            message_ids = asked(_TAKE_MESSAGE_IDS, [len(checked)])
    # A reply is rare: its target is read after the others, a round trip of its own.
    targets = _reply_targets(checked)
    views: dict[int, dict[int, int]] = {}
    for conversation_id, user_id, view_after in members():
        views.setdefault(conversation_id, {})[user_id] = view_after
    memberships = memberships()
    if together:
        contacts, blocked = contacts_and_blocks()
    else:
        # SQLite has no round trip to save: asked with the members known, by their ids, which costs
        # it a third of the joins above (instructions counted, bench/RESULTS.md).
        direct = {cid for (_, cid), m in memberships.items() if m.conversation.kind == Conversation.Kind.DIRECT}
        others = {uid for cid in direct for uid in views[cid]}
        contacts, blocked = contacts_and_blocks_among(
            set(sender_ids), others, {uid for v in views.values() for uid in v}
        )
    ids = sorted(pk for (pk,) in message_ids()) if together else []
    return _Facts(memberships, views, contacts, blocked, targets, ids)


# The table and its column are the model's; the count goes through a placeholder.
_TAKE_MESSAGE_IDS = (
    f"SELECT nextval(pg_get_serial_sequence('{Message._meta.db_table}', 'id')) "  # noqa: S608
    "FROM generate_series(1, %s)"
)


def _direct_refusals(checked: list[_Checked], facts: _Facts) -> set[int]:
    """Indexes of sends into direct conversations whose two people may not talk (reach's rule)."""
    pairs, with_channels = {}, {}
    for item in checked:
        if item.conversation.kind == Conversation.Kind.DIRECT:
            low, high = map(int, item.conversation.direct_key.split(":"))
            pair = (item.send.sender.pk, high if low == item.send.sender.pk else low)
            # A subscriber's private conversation with a channel needs no contacts, only no block.
            (with_channels if item.conversation.channel_id else pairs)[item.index] = pair
    refused = refused_among(pairs.values(), contacts=facts.contacts, blocked=facts.blocked)
    found = {index for index, pair in pairs.items() if pair in refused}
    found |= {index for index, pair in with_channels.items() if frozenset(pair) in facts.blocked}
    return found


def _reply_targets(checked: list[_Checked]) -> dict[int, Message]:
    ids = {item.reply_to_id for item in checked if item.reply_to_id}
    if not ids:
        return {}
    return Message.objects.only("pk", "conversation_id", "sender_id").in_bulk(ids)


def message_send_many(
    *, sends: list[OutgoingMessage], all_or_nothing: bool = False, _retried: bool = False
) -> list[SendResult]:
    """Stores many sends in one transaction (group commit) and pushes `message.new` after it.

    Each send is checked on its own; a bad one gets its error and does not stop the others.
    Order is kept: per sender, messages get ids and seqs in the order given. A client_id the
    sender already used returns the first message (created False) and stores and pushes nothing.

    `all_or_nothing`: the caller's transaction holds the batch, and if any of it fails the caller
    redoes the whole batch in a transaction of its own (chat.writer, on the event loop). The batch
    then keeps no savepoint, and a client_id the unique constraint refuses is raised, not retried.
    """
    results = [SendResult() for _ in sends]
    checked: list[_Checked] = []
    for index, send in enumerate(sends):
        try:
            item = _check_fields(send)
        except ServiceError as error:
            results[index].error = error
            continue
        item.index = index
        checked.append(item)
    if not checked:
        return results

    facts = _batch_facts(checked)
    for item in checked:
        if item.send.admit is not None:
            try:
                item.send.admit()
            except ServiceError as error:
                results[item.index].error = error
    checked = [item for item in checked if results[item.index].error is None]
    by_sender = facts.memberships
    # The senders as they are now (a socket's user was read when it connected): the frames show
    # their current name and avatar. Read with their memberships, not by a query of their own.
    senders = {m.user_id: m.user for m in by_sender.values()}
    # A client_id already stored (a send retried after a lost answer) is looked up only once
    # the unique constraint has refused it (the IntegrityError below): almost every send is
    # new, and the lookup was a query on every batch.
    with_client_id = [item for item in checked if item.client_id] if _retried else []
    earlier = (
        {
            (m.sender_id, m.client_id): m
            for m in Message.objects.filter(
                sender_id__in={item.send.sender.pk for item in with_client_id},
                client_id__in={item.client_id for item in with_client_id},
            ).select_related("sender")
        }
        if with_client_id
        else {}
    )
    targets = facts.targets
    hidden_from_sender = _hidden_pairs_for_replies(checked, targets, by_sender)

    valid: list[_Checked] = []
    seen_in_batch: dict[tuple[int, str], _Checked] = {}
    for item in checked:
        result = results[item.index]
        membership = by_sender.get((item.send.sender.pk, item.send.conversation_id))
        item.conversation = membership.conversation if membership is not None else None
        key = (item.send.sender.pk, item.client_id)
        if item.conversation is None:
            result.error = NotFound()
        elif item.conversation.kind == Conversation.Kind.CHANNEL:
            # A channel's broadcasts are read-only: its owner and editors broadcast (chat.services.channels).
            result.error = ChatError(
                "read_only", "A channel's conversation is read-only: message the channel privately.", 403
            )
        elif item.client_id and key in earlier:
            if earlier[key].conversation_id != item.conversation.pk:
                result.error = ChatError("client_id_reused", "That client_id was used for another conversation.", 409)
            else:
                result.message = earlier[key]
        elif item.reply_to_id and not _may_reply_to(
            item, membership, targets.get(item.reply_to_id), hidden_from_sender
        ):
            # The same answer for a message of another conversation and one the sender does not see.
            result.error = ChatError("invalid", "reply_to must be a message of this conversation.")
        elif item.send.shared_post is not None and post_visible(item.send.sender, item.send.shared_post) is None:
            # The same answer for a post that does not exist and one the sender may not see.
            result.error = ChatError("invalid", "shared_post must be a post you can see.")
        elif item.send.shared_article is not None and not articles_by_id(item.send.sender, [item.send.shared_article]):
            # The same answer for an article that does not exist, a draft, and one the sender may not read.
            result.error = ChatError("invalid", "shared_article must be a published article you can read.")
        elif item.client_id and key in seen_in_batch:
            continue  # the same send twice in one batch: answered below with the first one's message
        else:
            if item.client_id:
                seen_in_batch[key] = item
            valid.append(item)
    for index in _direct_refusals(valid, facts):
        results[index].error = ChatError("not_contacts", "You can only message your contacts.", 403)
    valid = [item for item in valid if results[item.index].error is None]

    if valid:
        try:
            _store(valid, results, facts, senders, savepoint=not all_or_nothing)
        except IntegrityError:
            # The same client_id raced in from another socket or request. Rare: redo the sends
            # one by one, where the retry finds the first message (or fails for another reason).
            if _retried or all_or_nothing:
                raise
            return [message_send_many(sends=[send], _retried=True)[0] for send in sends]
        _auto_replies(valid, results)
    for item in checked:
        result = results[item.index]
        first = seen_in_batch.get((item.send.sender.pk, item.client_id)) if item.client_id else None
        if result.message is None and result.error is None and first is not None:
            result.message = results[first.index].message
            result.error = results[first.index].error
    return results


_MEMBERSHIP_FIELDS = [f.attname for f in Membership._meta.concrete_fields]
_CONVERSATION_FIELDS = [f.attname for f in Conversation._meta.concrete_fields]
_USER_FIELDS = [f.attname for f in User._meta.concrete_fields]
# Senders and conversations go in one argument each, padded with 0 (no row has it) to one of these
# sizes, so each is prepared once; the writer's batch holds at most 200 sends.
_PAIR_COUNTS = (1, 4, 20, 200)


@Prepared
def _memberships_with_sender(*ids: int):
    senders, conversations = ids[: len(ids) // 2], ids[len(ids) // 2 :]
    return Membership.objects.filter(user_id__in=senders, conversation_id__in=conversations).values_list(
        *_MEMBERSHIP_FIELDS,
        *(f"conversation__{name}" for name in _CONVERSATION_FIELDS),
        *(f"user__{name}" for name in _USER_FIELDS),
        "user__avatar__key",
    )


def _memberships_asked(
    sender_ids: list[int], conversation_ids: list
) -> Callable[[], dict[tuple[int, int], Membership]]:
    """Asks for the senders' memberships of the conversations; returns the function that reads
    them, keyed (user, conversation), each with its conversation, its user and the user's avatar
    (as far as a summary reads it: its key).

    `Membership.objects.filter(...).select_related("conversation", "user__avatar")`, prepared: on
    an idle server this query's building was the largest part of a message's path before its
    transaction (bench/RESULTS.md, "Chat: the idle floor")."""
    size = next((n for n in _PAIR_COUNTS if n >= max(len(sender_ids), len(conversation_ids))), None)
    if size is None:  # more than a batch holds: in batches of its largest size
        step = _PAIR_COUNTS[-1]
        parts = [
            _memberships_asked(sender_ids[i : i + step], conversation_ids[j : j + step])
            for i in range(0, len(sender_ids), step)
            for j in range(0, len(conversation_ids), step)
        ]
        return lambda: {key: membership for part in parts for key, membership in part().items()}
    pad = (0,)
    answer = _memberships_with_sender.ask(
        *sender_ids, *pad * (size - len(sender_ids)), *conversation_ids, *pad * (size - len(conversation_ids))
    )

    def read() -> dict[tuple[int, int], Membership]:
        ends = (len(_MEMBERSHIP_FIELDS), len(_MEMBERSHIP_FIELDS) + len(_CONVERSATION_FIELDS))
        found = {}
        for row in answer():
            membership = Membership.from_db(None, _MEMBERSHIP_FIELDS, row[: ends[0]])
            membership.conversation = Conversation.from_db(None, _CONVERSATION_FIELDS, row[ends[0] : ends[1]])
            user = User.from_db(None, _USER_FIELDS, row[ends[1] : -1])
            if user.avatar_id is not None:
                user.avatar = Media.from_db(None, ["id", "key"], (user.avatar_id, row[-1]))
            membership.user = user
            found[(membership.user_id, membership.conversation_id)] = membership
        return found

    return read


def _auto_replies(valid: list[_Checked], results: list[SendResult]) -> None:
    """A subscriber's private message to a channel that equals one of its keywords (ignoring case and
    spaces around) is answered at once by the channel. Costs nothing for any other send."""
    asked = [
        (item, results[item.index].message)
        for item in valid
        if results[item.index].created
        and item.conversation.channel_id
        and item.conversation.kind == Conversation.Kind.DIRECT
    ]
    if not asked:
        return
    replies = {
        (row.channel_id, row.keyword.casefold()): row
        for row in ChannelAutoReply.objects.filter(
            channel_id__in={item.conversation.channel_id for item, _ in asked}
        ).select_related("channel__account")
    }
    sends = []
    for item, message in asked:
        row = replies.get((item.conversation.channel_id, message.body.strip().casefold()))
        if row is not None and message.sender_id != row.channel.account_id:
            sends.append(
                OutgoingMessage(sender=row.channel.account, conversation_id=item.conversation.pk, body=row.reply)
            )
    if sends:
        message_send_many(sends=sends)


def _hidden_pairs_for_replies(checked, targets, by_sender) -> set[frozenset[int]]:
    """Blocked pairs between senders and the authors of what they reply to, in one query (or none)."""
    people = {item.send.sender.pk for item in checked if item.reply_to_id in targets} | {
        target.sender_id for target in targets.values()
    }
    return blocked_pairs_among(people) if len(people) > 1 else set()


def _may_reply_to(item: _Checked, membership: Membership, target: Message | None, hidden) -> bool:
    """A reply must answer a message of its conversation that the sender sees."""
    return (
        target is not None
        and target.conversation_id == item.conversation.pk
        and sees_message(
            view_after=membership.visible_after_message_id,
            message_id=target.pk,
            reader_id=item.send.sender.pk,
            sender_id=target.sender_id,
            group=item.conversation.kind == Conversation.Kind.GROUP,
            hidden=hidden,
        )
    )


def _claim_media(valid: list[_Checked], results: list[SendResult]) -> tuple[list[_Checked], dict[int, list[Media]]]:
    """The sends whose photos may be attached (locked until commit), with those photos by send
    index; a send with a refused photo gets its error and is not stored. One query for the batch."""
    with_media = [item for item in valid if item.media]
    if not with_media:
        return valid, {}
    answers = media_claim_many(
        requests=[(item.send.sender, item.media) for item in with_media], kind=Media.AttachedKind.MESSAGE
    )
    photos = {}
    for item, answer in zip(with_media, answers, strict=True):
        if isinstance(answer, ServiceError):
            results[item.index].error = answer
        else:
            photos[item.index] = answer
    return [item for item in valid if results[item.index].error is None], photos


# On SQLite, the conversations' last message and the senders' read marks (the sender has read what
# they wrote) after the INSERT: prepared statements run once per row, not a query built by the ORM
# for each batch, which cost more than the database's own work (bench/RESULTS.md, the idle floor).
# On PostgreSQL the same two UPDATEs are part of the INSERT's statement (_with_updates).
_SET_LAST_MESSAGE = (
    f"UPDATE {Conversation._meta.db_table} SET last_message_id = %s, last_activity_at = %s WHERE id = %s"  # noqa: S608
)
_SET_READ_MARK = (
    f"UPDATE {Membership._meta.db_table} SET last_read_message_id = %s "  # noqa: S608
    "WHERE conversation_id = %s AND user_id = %s"
)

_INSERTED_FIELDS = [f for f in Message._meta.concrete_fields if not f.primary_key]
# PostgreSQL: the ids too, taken with the batch's reads (_TAKE_MESSAGE_IDS).
_INSERTED_FIELDS_WITH_ID = [Message._meta.pk, *_INSERTED_FIELDS]
_INSERT_MESSAGES: dict[tuple[str, int], str] = {}


def _insert_sql(vendor: str, size: int) -> str:
    """The INSERT of a batch of `size` messages (0: of one array per column): on SQLite RETURNING
    their ids; on PostgreSQL, with their ids given, the conversations' and read marks' UPDATEs."""
    fields = _INSERTED_FIELDS_WITH_ID if vendor == "postgresql" else _INSERTED_FIELDS
    if not size:
        # One array per column, whatever the batch's size (common.pipelined.as_arrays).
        arrays_of = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
        rows = f"SELECT * FROM unnest({arrays_of})"  # noqa: S608
    else:
        rows = "VALUES " + ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * size)
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in fields)
    # The table, the columns and their types are the model's; every value goes through placeholders.
    insert = f"INSERT INTO {quote(Message._meta.db_table)} ({names}) {rows}"
    if vendor != "postgresql":
        return f"{insert} RETURNING {quote('id')}"
    return _with_updates(insert)


def _with_updates(insert: str) -> str:
    """PostgreSQL: the INSERT, and in the same statement (data-modifying CTEs) each conversation's
    last message and each sender's read mark, set to the batch's latest (the highest id: ids follow
    the rows' order) unless a later one is there already: ids are taken before the transaction, so
    a batch of another worker may commit a higher one first. One statement where there were three,
    and the rows are locked in the same order as before (message, conversation, membership, then
    the seqs), the order the read marks' transactions take too."""
    conversation, membership = Conversation._meta.db_table, Membership._meta.db_table
    return (
        f"WITH m AS ({insert} RETURNING id, conversation_id, sender_id, created_at), "  # noqa: S608
        f"lasts AS (UPDATE {conversation} SET last_message_id = l.id, last_activity_at = l.created_at "
        "FROM (SELECT conversation_id, max(id) AS id, max(created_at) AS created_at FROM m "
        f"GROUP BY conversation_id) l WHERE {conversation}.id = l.conversation_id "
        f"AND ({conversation}.last_message_id IS NULL OR {conversation}.last_message_id < l.id)) "
        f"UPDATE {membership} SET last_read_message_id = l.id "
        "FROM (SELECT conversation_id, sender_id, max(id) AS id FROM m GROUP BY conversation_id, sender_id) l "
        f"WHERE {membership}.conversation_id = l.conversation_id AND {membership}.user_id = l.sender_id "
        f"AND ({membership}.last_read_message_id IS NULL OR {membership}.last_read_message_id < l.id)"
    )


def _insert_messages(messages: list[Message]) -> None:
    """`Message.objects.bulk_create(messages)` (and, on PostgreSQL, their conversations' last message
    and the senders' read marks), its SQL written once per database and batch size: building that
    INSERT for every batch cost more than the database's work (bench/RESULTS.md). Values are
    prepared by their fields (the creation time once for the batch). On PostgreSQL the messages come
    with their ids and nothing is read back: inside `pipelined` the statement goes with the next."""
    now = timezone.now()
    for message in messages:
        message.created_at = now
    arrays = as_arrays(messages)
    size = 0 if arrays else len(messages)
    sql = _INSERT_MESSAGES.get((connection.vendor, size))
    if sql is None:
        sql = _INSERT_MESSAGES[(connection.vendor, size)] = _insert_sql(connection.vendor, size)
    with_ids = connection.vendor == "postgresql"
    fields = _INSERTED_FIELDS_WITH_ID if with_ids else _INSERTED_FIELDS
    values = [[f.get_db_prep_save(getattr(m, f.attname), connection) for f in fields] for m in messages]
    params = columns(values) if arrays else [v for row in values for v in row]
    if with_ids:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    else:
        # RETURNING gives the ids in the rows' order.
        for message, (pk,) in zip(messages, asked(sql, params)(), strict=True):
            message.pk = pk
    for message in messages:
        message._state.adding = False
        message._state.db = connection.alias


def _store(
    valid: list[_Checked], results: list[SendResult], facts: _Facts, senders: dict[int, User], *, savepoint: bool
) -> None:
    # Inside a caller's transaction, a savepoint lets the caller go on after a failure here (the
    # retry send by send above). On SQLite it also copies every page the batch changes into the
    # statement journal: about 24 more writes a send, and 1.4-1.5 ms of CPU a send against 0.8-1.2
    # without (bench/RESULTS.md, "Chat: checkpoints by the log's length, and the loop's savepoint"),
    # which a caller that redoes the whole batch anyway need not pay.
    with transaction.atomic(savepoint=savepoint):
        valid, photos = _claim_media(valid, results)
        if valid:
            # Inside the transaction: opened outside it, the pipeline would sync (a round trip) each
            # time the transaction begins and ends, to check its state.
            with pipelined():
                _commit_waits_as_configured()
                _store_claimed(valid, photos, results, facts, senders)
                commit_queued()


def _commit_waits_as_configured() -> None:
    """PostgreSQL: the send's transaction waits at its COMMIT for the disk only as
    CHAT_SYNCHRONOUS_COMMIT says (settings: off by default, as SQLite's synchronous=NORMAL). Within
    the pipeline, a statement more in the trip that carries the transaction, not a round trip."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The value is one of the few the settings accept: a literal, so the statement is always the same.
            cursor.execute(f"SET LOCAL synchronous_commit TO {settings.CHAT_SYNCHRONOUS_COMMIT}")


def _store_claimed(valid, photos, results, facts: _Facts, senders) -> None:
    groups = {item.conversation.pk for item in valid if item.conversation.kind == Conversation.Kind.GROUP}
    messages = [
        Message(
            conversation=item.conversation,
            sender=item.send.sender,
            body=item.body,
            client_id=item.client_id,
            reply_to_id=item.reply_to_id,
            shared_post_id=item.send.shared_post,
            shared_article_id=item.send.shared_article,
        )
        for item in valid
    ]
    for message, pk in zip(messages, facts.message_ids, strict=False):  # PostgreSQL: taken with the reads
        message.pk = pk
    _insert_messages(messages)
    messages_stored.send(sender=Message, messages=messages)
    latest: dict[int, Message] = {}
    read_by_sender: dict[tuple[int, int], int] = {}
    for item, message in zip(valid, messages, strict=True):
        message.sender = senders[message.sender_id]
        message.media_items = photos.get(item.index, [])
        results[item.index].message = message
        results[item.index].created = True
        latest[message.conversation_id] = message
        read_by_sender[(message.conversation_id, message.sender_id)] = message.pk
    if connection.vendor != "postgresql":  # there they were part of the INSERT's statement
        with connection.cursor() as cursor:
            lasts = [(m.pk, connection.ops.adapt_datetimefield_value(m.created_at), cid) for cid, m in latest.items()]
            cursor.executemany(_SET_LAST_MESSAGE, lasts)
            cursor.executemany(_SET_READ_MARK, [(mid, cid, uid) for (cid, uid), mid in read_by_sender.items()])
    media_attach_many(
        [(message.media_items, message.pk) for message in messages if message.media_items],
        kind=Media.AttachedKind.MESSAGE,
    )
    events_publish_many(_publications(valid, messages, results, facts, groups))


def _members_asked(conversation_ids: list[int]) -> Callable[[], list[tuple[int, int, int]]]:
    """Asks for the conversations' members (conversation, user, visible after) and returns the
    function that reads the answer: inside `pipelined` the question goes out with what follows it."""
    conversation_in, params = one_of(conversation_ids, arrays=as_arrays(conversation_ids))
    # Written once rather than built by the ORM on every batch (see _SET_LAST_MESSAGE).
    return asked(
        f"SELECT conversation_id, user_id, visible_after_message_id FROM {Membership._meta.db_table} "  # noqa: S608
        f"WHERE conversation_id {conversation_in}",
        params,
    )


def _publications(valid, messages, results, facts: _Facts, groups: set[int]) -> list[Publication]:
    """One `message.new` per message, to the members who see it, each frame as its reader may see it."""
    members = facts.members
    shared = [m for m in messages if m.shared_post_id is not None]
    cards = reader_cards(
        [m.shared_post_id for m in shared], {uid for m in shared for uid in members[m.conversation_id]}
    )
    with_article = [m for m in messages if m.shared_article_id is not None]
    article_cards = article_reader_cards(
        [m.shared_article_id for m in with_article], {uid for m in with_article for uid in members[m.conversation_id]}
    )
    publications = []
    for item, message in zip(valid, messages, strict=True):
        group = message.conversation_id in groups
        views = members.get(message.conversation_id, {})

        def sees(reader_id, message_id, sender_id, views=views, group=group):
            return sees_message(
                view_after=views[reader_id],
                message_id=message_id,
                reader_id=reader_id,
                sender_id=sender_id,
                group=group,
                hidden=facts.blocked,
            )

        recipients = [uid for uid in views if sees(uid, message.pk, message.sender_id)]
        target = facts.targets.get(message.reply_to_id)
        frame = _frames(message, target, cards, sees, article_cards)
        results[item.index].rendered = frame(message.sender_id)["message"]
        publications.append(
            Publication(user_ids=recipients, event_type="message.new", ref={"message": message.pk}, frame=frame)
        )
    return publications


def _frames(message: Message, target: Message | None, cards: dict, sees, article_cards: dict):
    """The frame for each reader: the same dict for all unless a card or a reply preview differs."""
    if message.shared_post_id is None and message.shared_article_id is None and target is None:
        frame = {"message": message_data(message)}
        return lambda reader_id: frame

    def for_reader(reader_id: int) -> dict:
        card = cards.get((message.shared_post_id, reader_id))
        article = article_cards.get((message.shared_article_id, reader_id))
        reply_seen = target is None or sees(reader_id, target.pk, target.sender_id)
        return {"message": message_data(message, card, reply_seen=reply_seen, article_card=article)}

    return for_reader


def message_send(
    *,
    sender: User,
    conversation: Conversation,
    body,
    client_id=None,
    reply_to=None,
    shared_post=None,
    media=None,
    shared_article=None,
) -> tuple[Message, bool]:
    """Sends one message (see message_send_many). Returns (message, created); raises ChatError
    (or media.attach's MediaRefused for photos that may not be attached)."""
    outgoing = OutgoingMessage(
        sender=sender,
        conversation_id=conversation.pk,
        body=body,
        client_id=client_id,
        reply_to=reply_to,
        shared_post=shared_post,
        media=media,
        shared_article=shared_article,
    )
    [result] = message_send_many(sends=[outgoing])
    if result.error is not None:
        raise result.error
    return result.message, result.created


@transaction.atomic
def message_recall(*, user: User, message_id) -> Message:
    """Recalls the sender's message within RECALL_WINDOW (its photos are detached); those who see it hear of it."""
    message = message_for_member(user=user, message_id=message_id)
    if message is None:
        raise NotFound()
    if message.sender_id != user.pk:
        raise ChatError("forbidden", "Only the sender can recall a message.", 403)
    if message.recalled:
        return message
    if timezone.now() - message.created_at > RECALL_WINDOW:
        raise ChatError("too_late", "Messages can be recalled within 2 minutes of sending.")
    message.recalled_at = timezone.now()
    message.save(update_fields=["recalled_at"])
    # Its photos go with its text: served to nobody from now on.
    media_detach(kind=Media.AttachedKind.MESSAGE, ids=[message.pk])
    events_publish(
        user_ids=readers_of(message),
        event_type="message.recalled",
        ref={"message": message.pk},
        frame={"message": message_data(message)},
    )
    return message
