using ErrorCoordinator.Testing.Redis;
using Xunit;

// One redis-server per test assembly (EC_TEST_REDIS_URL, or a private one on a free port).
[assembly: AssemblyFixture(typeof(RedisServer))]

namespace ErrorCoordinator.Redis.Tests
{
    internal static class ThreadPoolWarmup
    {
        /// <summary>
        /// The concurrency tests start 100-200 callers at once on a 2-core machine while other test classes run in
        /// parallel; the thread pool's slow ramp-up from 2 threads then starves StackExchange.Redis's completions
        /// (5 s timeouts) in this test process. A server process does not start hundreds of callers in one burst.
        /// </summary>
        [System.Runtime.CompilerServices.ModuleInitializer]
        internal static void Init() => ThreadPool.SetMinThreads(Math.Max(64, Environment.ProcessorCount * 8), 64);
    }
}
