using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ErrorCoordinator.Testing.Redis;

/// <summary>
/// A private <c>redis-server</c> process on 127.0.0.1 and a free port (picked by binding a TcpListener to port 0;
/// <c>--port 0</c> does not pick one), with persistence off, killed on dispose. Used by the test fixture and,
/// compiled in as a linked file, by the bench; it depends on nothing but the base library.
/// </summary>
public sealed class RedisServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private int _disposed;

    private RedisServerProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string Configuration => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    public static async Task<RedisServerProcess> StartAsync(CancellationToken cancellationToken = default)
    {
        var exe = FindExecutable()
            ?? throw new InvalidOperationException("redis-server was not found (set EC_REDIS_SERVER or install redis-server: apt-get install -y redis-server).");
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
            foreach (var a in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                         "--save", "", "--appendonly", "no", "--protected-mode", "yes", "--daemonize", "no" })
                psi.ArgumentList.Add(a);
            var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start redis-server.");
            var server = new RedisServerProcess(process, port);
            process.OutputDataReceived += (_, e) => { lock (server._output) server._output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { lock (server._output) server._output.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var started = Stopwatch.StartNew();
            while (started.Elapsed < TimeSpan.FromSeconds(10) && !process.HasExited)
            {
                if (await PingAsync(port, cancellationToken).ConfigureAwait(false)) return server;
                await Task.Delay(25, cancellationToken).ConfigureAwait(false);
            }
            lock (server._output) lastError = $"redis-server on port {port} did not answer PING within 10 s (exited: {process.HasExited}):\n{server._output}";
            server.Dispose();
        }
        throw new InvalidOperationException(lastError);
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

    /// <summary>PING over a raw socket: true on +PONG.</summary>
    public static async Task<bool> PingAsync(int port, CancellationToken cancellationToken = default)
    {
        try
        {
            using var client = new TcpClient();
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(TimeSpan.FromSeconds(1));
            await client.ConnectAsync(IPAddress.Loopback, port, cts.Token).ConfigureAwait(false);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), cts.Token).ConfigureAwait(false);
            var buffer = new byte[16];
            var n = await stream.ReadAsync(buffer, cts.Token).ConfigureAwait(false);
            return Encoding.ASCII.GetString(buffer, 0, n).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>redis-server from EC_REDIS_SERVER, PATH or the usual places; null when it is not installed.</summary>
    public static string? FindExecutable()
    {
        var explicitPath = Environment.GetEnvironmentVariable("EC_REDIS_SERVER");
        if (!string.IsNullOrWhiteSpace(explicitPath) && File.Exists(explicitPath)) return explicitPath;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "redis-server");
            if (File.Exists(candidate)) return candidate;
        }
        foreach (var candidate in new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server", "/usr/sbin/redis-server" })
            if (File.Exists(candidate)) return candidate;
        return null;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            _process.Dispose();
        }
    }
}
