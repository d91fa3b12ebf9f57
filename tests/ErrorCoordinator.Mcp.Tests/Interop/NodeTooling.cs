using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Xunit;

namespace ErrorCoordinator.Mcp.Tests.Interop;

/// <summary>
/// Finds the Node runtimes and the interop npm packages, and runs node scripts.
/// run-tests.sh installs them and exports EC_NODE22 and EC_INTEROP_DIR; by hand (dotnet test) the
/// defaults are the same places relative to the repository root: .tools/node22 and
/// tests/ErrorCoordinator.Mcp.Tests/Interop/node. A missing tool fails the test with what to run.
/// </summary>
public static partial class NodeTooling
{
    private const string SolutionFile = "ErrorCoordinator.Mcp.sln";

    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The folder with package.json, the .mjs scripts and node_modules.</summary>
    public static string InteropDir =>
        Environment.GetEnvironmentVariable("EC_INTEROP_DIR") is { Length: > 0 } dir
            ? Path.GetFullPath(dir)
            : Path.Combine(RepoRoot, "tests", "ErrorCoordinator.Mcp.Tests", "Interop", "node");

    private static string Hint =>
        "Run ./run-tests.sh from the repository root (it installs Node 22 into .tools/node22 and runs npm ci in " +
        "tests/ErrorCoordinator.Mcp.Tests/Interop/node), or set EC_NODE22 and EC_INTEROP_DIR.";

    /// <summary>A Node >= 22 binary (the conformance CLI needs fs.globSync). Fails the test when there is none.</summary>
    public static string RequireNode22()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("EC_NODE22") is { Length: > 0 } env) candidates.Add(env);
        candidates.Add(Path.Combine(RepoRoot, ".tools", "node22", "node_modules", "node", "bin", "node"));
        candidates.Add("node");
        var tried = new List<string>();
        foreach (var c in candidates)
        {
            var major = NodeMajor(c);
            tried.Add($"{c}: {(major is null ? "not found" : $"v{major}")}");
            if (major >= 22) return c;
        }
        Assert.Fail($"Node 22 or later is required and was not found ({string.Join("; ", tried)}). {Hint}");
        return null!;
    }

    /// <summary>The interop folder, after checking that an npm package is installed in it.</summary>
    public static string RequirePackage(string package)
    {
        var dir = InteropDir;
        var manifest = Path.Combine(dir, "node_modules", package, "package.json");
        if (!File.Exists(manifest))
            Assert.Fail($"The npm package {package} is not installed (no {manifest}). {Hint}");
        return dir;
    }

    public static async Task<NodeResult> RunAsync(string node, IEnumerable<string> args, string workingDirectory, TimeSpan timeout,
        IDictionary<string, string?>? env = null)
    {
        var psi = new ProcessStartInfo(node)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        psi.Environment["FORCE_COLOR"] = "0";
        foreach (var (k, v) in env ?? new Dictionary<string, string?>())
        {
            if (v is null) psi.Environment.Remove(k);
            else psi.Environment[k] = v;
        }

        using var process = new Process { StartInfo = psi };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        var watch = Stopwatch.StartNew();
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var timedOut = false;
        using (var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken))
        {
            cts.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            }
        }
        process.WaitForExit(); // flush the redirected streams
        string Text(StringBuilder sb) { lock (sb) return StripAnsi(sb.ToString()); }
        return new NodeResult(timedOut ? -1 : process.ExitCode, Text(stdout), Text(stderr), timedOut, watch.Elapsed);
    }

    public static string StripAnsi(string s) => Ansi().Replace(s, "");

    private static int? NodeMajor(string node)
    {
        try
        {
            var psi = new ProcessStartInfo(node, "--version") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            var version = p.StandardOutput.ReadToEnd().Trim();
            if (!p.WaitForExit(15_000)) { p.Kill(); return null; }
            var m = Regex.Match(version, @"^v(\d+)\.");
            return m.Success ? int.Parse(m.Groups[1].Value) : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return null;
        }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, SolutionFile))) return dir.FullName;
        throw new InvalidOperationException($"No {SolutionFile} above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"\x1B\[[0-9;]*[A-Za-z]")]
    private static partial Regex Ansi();
}

public sealed record NodeResult(int ExitCode, string Stdout, string Stderr, bool TimedOut, TimeSpan Elapsed)
{
    public string Describe() =>
        $"exit code {(TimedOut ? "none (timed out)" : ExitCode.ToString())} after {Elapsed.TotalSeconds:F1} s\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}
