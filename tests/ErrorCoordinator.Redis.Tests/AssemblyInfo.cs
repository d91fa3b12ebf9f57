using ErrorCoordinator.Testing.Redis;
using Xunit;

// One redis-server per test assembly (EC_TEST_REDIS_URL, or a private one on a free port).
[assembly: AssemblyFixture(typeof(RedisServer))]
