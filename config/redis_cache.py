"""Django's Redis cache with one redis-py client per connection pool, made once.

Django's `RedisCacheClient.get_client` makes a new `redis.Redis` for every cache call, and
redis-py 8 fills a table of about 170 response callbacks in each one's constructor: measured,
0.27 ms of Python per call, more than the round trip itself. Presence counts and rate limits make
two to four calls per socket that connects and resumes, and every message sent takes one. A
redis-py client is safe to share between threads (it takes a connection from its pool for each
command), so one per pool serves every call.
"""

import asyncio
import weakref

import redis.asyncio
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

# Connections of an event loop's client (acount_from_zero). A reconnect storm's resumes count at once,
# thousands in flight together: redis-py's default pool opens a connection for each until 100, then
# raises MaxConnectionsError (the consumer then ended the socket with 1011, 60 of 4,000 resumes in a
# 2,000-client storm on PostgreSQL + Redis), and opening one costs the loop 2 to 4 ms of CPU (redis-py
# reads its own package metadata for CLIENT SETINFO). A few connections, the other calls waiting their
# turn for one, serve the same counts in 0.2 ms of CPU each (bench/RESULTS.md, "Connect storm: fifth pass").
LOOP_CONNECTIONS = 16


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:  # two threads may both make one: either serves
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


# A counter that starts at 0 with an expiry, then counts one: `cache.add(key, 0, timeout)` and
# `cache.incr(key)` in one round trip instead of two. Atomic, so a count can neither expire between
# the two (a script sees time stand still) nor be made by INCR without an expiry. With `until` (an
# expiry time, stored as the cache stores any float), a second key holding it is added alongside and
# read back: the fixed window of accounts.limits.
_COUNT_FROM_ZERO = """
redis.call('SET', KEYS[1], 0, 'NX', 'EX', ARGV[1])
local count = redis.call('INCR', KEYS[1])
if #KEYS == 1 then return {count} end
redis.call('SET', KEYS[2], ARGV[2], 'NX', 'EX', ARGV[1])
return {count, redis.call('GET', KEYS[2])}
"""


class SharedClientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
        self._count_script = None
        # redis.asyncio clients (with their scripts), one per event loop: a client's connections
        # belong to the loop that made them.
        self._async_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def count_from_zero(self, key: str, timeout: int, *, until_key: str | None = None, until: float = 0.0):
        """One more in the count at `key` (made at 0 with `timeout` seconds to live if missing): the
        count, or with `until_key`, (the count, the float stored there, added as `until` if missing)."""
        client = self._cache.get_client(key, write=True)
        if self._count_script is None:  # two threads may both register it: either serves
            self._count_script = client.register_script(_COUNT_FROM_ZERO)
        keys, args = self._script_inputs(key, timeout, until_key, until)
        return self._counted(self._count_script(keys=keys, args=args, client=client), until_key)

    async def acount_from_zero(self, key: str, timeout: int, *, until_key: str | None = None, until: float = 0.0):
        """count_from_zero, awaited in the event loop: no hop into a thread and back for one round trip
        (a message's rate limit, on every send: bench/RESULTS.md, "Chat: round trips, the pub/sub lock
        and the checkpoints")."""
        loop = asyncio.get_running_loop()
        if loop not in self._async_clients:
            # The server the synchronous client writes to (the first of LOCATION's).
            pool = redis.asyncio.BlockingConnectionPool.from_url(self._servers[0], max_connections=LOOP_CONNECTIONS)
            client = redis.asyncio.Redis(connection_pool=pool)
            self._async_clients[loop] = (client, client.register_script(_COUNT_FROM_ZERO))
        client, script = self._async_clients[loop]
        keys, args = self._script_inputs(key, timeout, until_key, until)
        return self._counted(await script(keys=keys, args=args), until_key)

    def _script_inputs(self, key, timeout, until_key, until) -> tuple[list, list]:
        keys = [self.make_and_validate_key(key)]
        args = [max(1, int(timeout))]
        if until_key is not None:
            keys.append(self.make_and_validate_key(until_key))
            args.append(self._cache._serializer.dumps(until))
        return keys, args

    def _counted(self, result, until_key):
        if until_key is None:
            return int(result[0])
        return int(result[0]), self._cache._serializer.loads(result[1])
