using ErrorCoordinator.Testing.Redis;

// One real redis-server for the whole assembly (EC_TEST_REDIS_URL from the test script, or a private one).
[assembly: AssemblyFixture(typeof(RedisServer))]
