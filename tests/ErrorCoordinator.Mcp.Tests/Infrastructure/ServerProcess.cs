using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace ErrorCoordinator.Mcp.Tests.Infrastructure;

/// <summary>
/// The built server executable, started as a real process (as an MCP client or a second machine would).
/// For HTTP it is started with --port 0 and the URL is read from the line the server prints on stderr.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource<string> _url = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(Process process)
    {
        _process = process;
    }

    /// <summary>The MCP endpoint, e.g. http://127.0.0.1:41234/mcp (HTTP servers only).</summary>
    public string McpUrl => _url.Task.Result;

    public Uri BaseUri => new(McpUrl[..McpUrl.LastIndexOf("/mcp", StringComparison.Ordinal)]);

    public string Stderr
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Path of the server's entry assembly, built next to the tests.</summary>
    public static string ServerDll => Path.Combine(AppContext.BaseDirectory, "ErrorCoordinator.Mcp.dll");

    /// <summary>The command and arguments that launch the server (for stdio clients).</summary>
    public static (string Command, string[] Arguments) Launch(params string[] args) => ("dotnet", [ServerDll, .. args]);

    public static async Task<ServerProcess> StartHttpAsync(IEnumerable<string> args, IDictionary<string, string?>? env = null, TimeSpan? timeout = null)
    {
        var server = Start(["--http", "--port", "0", .. args], env);
        var ready = await Task.WhenAny(server._url.Task, Task.Delay(timeout ?? TimeSpan.FromSeconds(60)));
        if (ready != server._url.Task)
        {
            await server.DisposeAsync();
            throw new InvalidOperationException($"The HTTP server did not start in time. stderr:\n{server.Stderr}");
        }
        return server;
    }

    /// <summary>Starts the server and waits for it to exit (for start-up failure tests).</summary>
    public static async Task<(int ExitCode, string Stderr)> RunToExitAsync(IEnumerable<string> args, IDictionary<string, string?>? env = null, TimeSpan? timeout = null)
    {
        await using var server = Start(args, env);
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        await server._process.WaitForExitAsync(cts.Token);
        server._process.WaitForExit(); // flush redirected streams
        return (server._process.ExitCode, server.Stderr);
    }

    public static ServerProcess Start(IEnumerable<string> args, IDictionary<string, string?>? env = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(ServerDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("REDIS_URL");
        foreach (var (k, v) in env ?? new Dictionary<string, string?>())
        {
            if (v is null) psi.Environment.Remove(k);
            else psi.Environment[k] = v;
        }
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var server = new ServerProcess(process);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (server._stderr) server._stderr.AppendLine(e.Data);
            var m = ListeningLine().Match(e.Data);
            if (m.Success) server._url.TrySetResult(m.Groups["url"].Value);
        };
        process.OutputDataReceived += (_, _) => { };
        process.Exited += (_, _) => server._url.TrySetException(new InvalidOperationException($"The server exited early. stderr:\n{server.Stderr}"));
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }
        catch (TimeoutException)
        {
        }
        _process.Dispose();
    }

    [GeneratedRegex(@"MCP over Streamable HTTP at (?<url>http://\S+/mcp)")]
    private static partial Regex ListeningLine();
}
