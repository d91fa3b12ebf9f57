using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
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

    private Process? _process;
    private string? _configuration;
    private string? _error;
    private readonly StringBuilder _output = new();

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
        var exe = FindOnPath("redis-server");
        if (exe is null)
        {
            _error = $"These tests need Redis: set {UrlVariable} to a running test Redis (e.g. redis://127.0.0.1:6390) " +
                     "or install redis-server (apt-get install -y redis-server) so the tests can start a private one.";
            return;
        }
        _error = await StartAsync(exe).ConfigureAwait(false);
    }

    private async Task<string?> StartAsync(string exe)
    {
        string? lastError = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var port = FreePort();
            var psi = new ProcessStartInfo(exe)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                         "--save", "", "--appendonly", "no", "--protected-mode", "yes", "--daemonize", "no" })
                psi.ArgumentList.Add(a);
            var process = Process.Start(psi)!;
            process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromSeconds(10) && !process.HasExited)
            {
                if (await PingAsync("127.0.0.1", port).ConfigureAwait(false))
                {
                    _process = process;
                    _configuration = $"127.0.0.1:{port}";
                    Port = port;
                    Source = "private";
                    return null;
                }
                await Task.Delay(50).ConfigureAwait(false);
            }
            string log;
            lock (_output) log = _output.ToString();
            lastError = $"redis-server on port {port} did not answer PING within 10 s (exited: {process.HasExited}). Output:\n{log}";
            Kill(process);
        }
        return lastError;
    }

    /// <summary>Sends PING over a raw socket; true on +PONG (or an auth error, which also means a live server).</summary>
    public static async Task<bool> PingAsync(string host, int port)
    {
        try
        {
            using var client = new TcpClient();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await client.ConnectAsync(host, port, cts.Token).ConfigureAwait(false);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), cts.Token).ConfigureAwait(false);
            var buffer = new byte[64];
            var n = await stream.ReadAsync(buffer, cts.Token).ConfigureAwait(false);
            var reply = Encoding.ASCII.GetString(buffer, 0, n);
            return reply.StartsWith("+PONG", StringComparison.Ordinal) || reply.StartsWith("-NOAUTH", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>A port that was free a moment ago (bind to port 0 and read the port the OS chose).</summary>
    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        if (_process is not null) Kill(_process);
        _process = null;
        return ValueTask.CompletedTask;
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            process.Dispose();
        }
    }

    private static string? FindOnPath(string name)
    {
        var explicitPath = Environment.GetEnvironmentVariable("EC_REDIS_SERVER");
        if (!string.IsNullOrWhiteSpace(explicitPath) && File.Exists(explicitPath)) return explicitPath;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        foreach (var candidate in new[] { "/usr/bin/" + name, "/usr/local/bin/" + name, "/usr/sbin/" + name })
            if (File.Exists(candidate)) return candidate;
        return null;
    }
}

/// <summary>Unique key and channel prefixes so tests sharing one Redis never see each other's data.</summary>
public static class TestPrefix
{
    /// <summary>A fresh prefix such as <c>t1a2b3c4d:</c> (valid as a StorageOptions.KeyPrefix).</summary>
    public static string New() => "t" + Guid.NewGuid().ToString("N")[..8] + ":";
}
