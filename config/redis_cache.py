"""Django's Redis cache with one redis-py client per connection pool, made once.

Django's `RedisCacheClient.get_client` makes a new `redis.Redis` for every cache call, and
redis-py 8 fills a table of about 170 response callbacks in each one's constructor: measured,
0.27 ms of Python per call, more than the round trip itself. Presence counts and rate limits make
two to four calls per socket that connects and resumes, and every message sent takes one. A
redis-py client is safe to share between threads (it takes a connection from its pool for each
command), so one per pool serves every call.
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


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


class SharedClientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
