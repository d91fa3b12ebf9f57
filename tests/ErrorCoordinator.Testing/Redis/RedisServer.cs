using Xunit;

namespace ErrorCoordinator.Testing.Redis;

/// <summary>
/// A real redis-server for tests, shared by one test assembly (register it with
/// <c>[assembly: AssemblyFixture(typeof(RedisServer))]</c>). Uses the server named by <c>EC_TEST_REDIS_URL</c>
/// (the test script starts one and exports it); otherwise starts a private <c>redis-server</c> on a free port
/// (<c>--save "" --appendonly no</c>) and kills it on dispose. When neither is possible, <see cref="Configuration"/>
/// throws a clear error, so tests that need Redis fail instead of silently passing.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    /// <summary>Environment variable naming an already running test Redis (redis:// URL or host:port).</summary>
    public const string UrlVariable = "EC_TEST_REDIS_URL";

    private RedisServerProcess? _process;
    private string? _configuration;
    private string? _error;

    /// <summary>How this server was found: "env" or "private".</summary>
    public string? Source { get; private set; }

    /// <summary>The port of the private server (null when the environment named one).</summary>
    public int? Port { get; private set; }

    /// <summary>Connection string for tests (a redis:// URL or host:port). Throws when no Redis is available.</summary>
    public string Configuration => _configuration ?? throw new InvalidOperationException(_error ?? "RedisServer was not initialized.");

    /// <summary>True when a Redis is available.</summary>
    public bool IsAvailable => _configuration is not null;

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        var env = Environment.GetEnvironmentVariable(UrlVariable);
        if (!string.IsNullOrWhiteSpace(env))
        {
            _configuration = env.Trim();
            Source = "env";
            return;
        }
        if (RedisServerProcess.FindExecutable() is null)
        {
            _error = $"These tests need Redis: set {UrlVariable} to a running test Redis (e.g. redis://127.0.0.1:6390) " +
                     "or install redis-server (apt-get install -y redis-server) so the tests can start a private one.";
            return;
        }
        try
        {
            _process = await RedisServerProcess.StartAsync().ConfigureAwait(false);
            _configuration = _process.Configuration;
            Port = _process.Port;
            Source = "private";
        }
        catch (InvalidOperationException ex)
        {
            _error = ex.Message;
        }
    }

    /// <summary>A port that was free a moment ago.</summary>
    public static int FreePort() => RedisServerProcess.FreePort();

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _process?.Dispose();
        _process = null;
        return ValueTask.CompletedTask;
    }
}

/// <summary>Unique key and channel prefixes so tests sharing one Redis never see each other's data.</summary>
public static class TestPrefix
{
    /// <summary>A fresh prefix such as <c>t1a2b3c4d:</c> (valid as a StorageOptions.KeyPrefix).</summary>
    public static string New() => "t" + Guid.NewGuid().ToString("N")[..8] + ":";
}
